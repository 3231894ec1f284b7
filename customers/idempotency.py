"""`Idempotency-Key` on customer creation: a retry replays the first answer and creates nothing.

The key is claimed by inserting its row first thing in the create transaction. The unique
constraint on (organization, key) makes a second request with the same key wait on that insert
until the first commits (then it replays the stored answer) or rolls back (then it proceeds as the
first). A request that fails, for instance with CUSTOMER_CODE_TAKEN, rolls its claim back with
everything else, so only successful creations are replayed.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from common.actors import Actor
from common.errors import ApplicationError
from organizations.models import Organization

from .models import Customer, CustomerIdempotencyKey
from .services import customer_create

KEY_LIFETIME = timedelta(hours=24)
# Claiming retries only when the row it collided with vanished (rolled back or expired).
_CLAIM_ATTEMPTS = 3


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: dict
    etag: str
    replayed: bool
    # The ids of the created customer's strong matches (customers/matching.py), as the first
    # answer named them: a replay repeats them.
    possible_duplicate_ids: list[int] = field(default_factory=list)


def request_digest(body) -> str:
    """The same JSON body, whatever its key order or spacing, has the same digest."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _claim(organization: Organization, key: str, digest: str) -> CustomerIdempotencyKey | None:
    """Insert the key's row and return None, or return the live row already holding the key."""
    for _ in range(_CLAIM_ATTEMPTS):
        now = timezone.now()
        try:
            with transaction.atomic():
                CustomerIdempotencyKey.objects.create(
                    organization=organization, key=key, request_digest=digest, created_at=now
                )
            return None
        except IntegrityError:
            held = CustomerIdempotencyKey.objects.filter(organization=organization, key=key).first()
        if held is None:
            continue
        if held.created_at > now - KEY_LIFETIME:
            return held
        held.delete()
    raise ApplicationError(
        409, "IDEMPOTENCY_KEY_IN_USE", "This Idempotency-Key is busy: retry in a moment."
    )


@transaction.atomic
def customer_create_idempotent(
    *,
    organization: Organization,
    key: str,
    digest: str,
    data: dict,
    actor: Actor,
    render: Callable[[Customer], dict],
    on_duplicate: str | None = None,
) -> StoredResponse:
    """Create a customer once per key and body; `render` gives the response body to store."""
    held = _claim(organization, key, digest)
    if held is not None:
        if held.request_digest != digest:
            raise ApplicationError(
                422,
                "IDEMPOTENCY_KEY_REUSED",
                "This Idempotency-Key was used with a different body in the last 24 hours.",
            )
        return StoredResponse(
            held.status_code,
            held.response_body,
            held.etag,
            replayed=True,
            possible_duplicate_ids=held.possible_duplicate_ids,
        )
    customer = customer_create(
        organization=organization, data=data, actor=actor, on_duplicate=on_duplicate
    )
    body = render(customer)
    matches = [match.customer.pk for match in customer.possible_duplicates]
    CustomerIdempotencyKey.objects.filter(organization=organization, key=key).update(
        status_code=201, response_body=body, etag=customer.etag, possible_duplicate_ids=matches
    )
    return StoredResponse(201, body, customer.etag, replayed=False, possible_duplicate_ids=matches)


def purge_expired(now=None) -> int:
    """Delete the keys older than KEY_LIFETIME (they can no longer be replayed); how many."""
    now = timezone.now() if now is None else now
    deleted, _ = CustomerIdempotencyKey.objects.filter(created_at__lte=now - KEY_LIFETIME).delete()
    return deleted
