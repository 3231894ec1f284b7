from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
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
) -> IssuedKey:
    key = crypto.generate_key()
    api_key = ApiKey.objects.create(
        organization=organization,
        name=name,
        prefix=crypto.display_prefix(key),
        digest=crypto.digest(key),
        created_by=created_by,
        expires_at=expires_at,
    )
    return IssuedKey(api_key=api_key, key=key)


def api_keys_revoke(*, api_keys: QuerySet[ApiKey]) -> int:
    """Revoke every key of the queryset not yet revoked; a revoked key keeps its first revokedAt."""
    return api_keys.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    api_keys_revoke(api_keys=ApiKey.objects.filter(pk=api_key.pk))
    api_key.refresh_from_db(fields=["revoked_at"])
    return api_key


def api_key_touch(*, api_key: ApiKey, now: datetime) -> None:
    """Record use, at most once per LAST_USED_PRECISION per key."""
    if api_key.last_used_at is not None and now - api_key.last_used_at < LAST_USED_PRECISION:
        return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_PRECISION)
    ApiKey.objects.filter(stale, pk=api_key.pk).update(last_used_at=now)
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
