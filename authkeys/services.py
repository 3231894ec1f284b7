from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connections, router, transaction
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from organizations.models import Organization, User

from . import crypto
from .models import ApiKey

# lastUsedAt is for people ("is this key still in use?"): minute precision is plenty, and it
# spares the database a write on every request.
LAST_USED_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedKey:
    api_key: ApiKey
    key: str  # the plaintext, to be shown once and never stored


def api_key_create(
    *,
    organization: Organization,
    name: str,
    created_by: User | None = None,
    expires_at: datetime | None = None,
    response_casing: str = "",
) -> IssuedKey:
    key = crypto.generate_key()
    api_key = ApiKey.objects.create(
        organization=organization,
        name=name,
        prefix=crypto.display_prefix(key),
        digest=crypto.digest(key),
        created_by=created_by,
        expires_at=expires_at,
        response_casing=response_casing,
    )
    return IssuedKey(api_key=api_key, key=key)


def api_key_change(*, api_key: ApiKey, **changes) -> ApiKey:
    """Rename a key or change how answers to it are spelled (`name`, `response_casing`); what
    makes it a credential (digest, organization, creator, expiry) never changes."""
    allowed = {"name", "response_casing"}
    if not changes.keys() <= allowed:
        raise ValueError(f"An API key's {sorted(changes.keys() - allowed)} cannot be changed.")
    for attribute, value in changes.items():
        setattr(api_key, attribute, value)
    api_key.save(update_fields=list(changes))
    return api_key


def api_keys_revoke(*, api_keys: QuerySet[ApiKey]) -> int:
    """Revoke every key of the queryset not yet revoked; a revoked key keeps its first revokedAt."""
    return api_keys.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    api_keys_revoke(api_keys=ApiKey.objects.filter(pk=api_key.pk))
    api_key.refresh_from_db(fields=["revoked_at"])
    return api_key


def api_key_touch(*, api_key: ApiKey, now: datetime) -> None:
    """Record use, at most once per LAST_USED_PRECISION per key.

    A key used less often than that writes on every request, on the authentication path: the
    write is one statement of literal SQL, not a queryset's update() compiled each time.
    """
    if api_key.last_used_at is not None and now - api_key.last_used_at < LAST_USED_PRECISION:
        return
    connection = connections[router.db_for_write(ApiKey, instance=api_key)]
    field = ApiKey._meta.get_field("last_used_at")
    used, stale = (
        field.get_db_prep_value(moment, connection) for moment in (now, now - LAST_USED_PRECISION)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE authkeys_apikey SET last_used_at = %s "
            "WHERE id = %s AND (last_used_at IS NULL OR last_used_at < %s)",
            [used, api_key.pk, stale],
        )
    api_key.last_used_at = now


@transaction.atomic
def user_refresh_tokens_blacklist(*, user: User) -> int:
    """End every refresh token the user holds (a password change, a forced sign-out)."""
    live = OutstandingToken.objects.filter(
        user=user, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
    )
    tokens = [BlacklistedToken(token=token) for token in live]
    BlacklistedToken.objects.bulk_create(tokens, ignore_conflicts=True)
    return len(tokens)
