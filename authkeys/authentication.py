"""Bearer authentication: an API key (`bc_…`) or a Simple JWT access token.

This is the one place that decides which organization a request acts for. It returns
`(user, principal)`; views read the organization from `request.auth.organization`, never from the
body or the URL. The query that finds the credential (the key's row, the JWT's membership) also
counts the request against its rate limit (authkeys.throttling.find_and_count); the verdict on
that count comes once the credential has passed its checks, before any permission check, so every
authenticated request counts and a refused credential is answered 401/403, not 429.
"""

import hmac
from dataclasses import dataclass

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from common.http import request_header
from organizations.models import Membership, Organization, User

from . import crypto
from .lookups import CompiledLookup
from .models import ApiKey
from .ratelimit import Usage
from .services import api_key_touch
from .throttling import (
    API_KEY_COUNTER,
    API_KEY_SCOPE,
    USER_COUNTER,
    USER_SCOPE,
    CredentialRateThrottle,
    find_and_count,
)

ORGANIZATION_HEADER = "organization-id"
# Organization ids are 64-bit; anything longer is not an id we could have issued.
_MAX_ID_DIGITS = 19


# Both lookups are by a unique key (ApiKey.digest; Membership's user and organization).
_API_KEY_BY_DIGEST = CompiledLookup(
    ApiKey,
    lambda digest: ApiKey.objects.select_related("organization", "created_by").filter(
        digest=digest
    ),
    sentinels=[""],
)
_MEMBERSHIP = CompiledLookup(
    Membership,
    lambda user_id, organization_id: (
        Membership.objects.select_related("user", "organization")
        .filter(user_id=user_id)
        .filter(organization_id=organization_id)
    ),
    sentinels=[1, 2],
)


@dataclass(frozen=True)
class Principal:
    """Who is acting, and for which organization."""

    organization: Organization
    user: User | None
    api_key: ApiKey | None = None
    role: str | None = None

    @property
    def is_api_key(self) -> bool:
        return self.api_key is not None


class OrganizationIdRequired(exceptions.NotAuthenticated):
    default_detail = "The organization-id header is required with a JWT."
    default_code = "organization_id_required"


class OrganizationAccessDenied(exceptions.PermissionDenied):
    default_detail = "You cannot act for this organization."
    default_code = "organization_access_denied"


def _fail(message: str):
    return exceptions.AuthenticationFailed(message)


class BearerAuthentication(BaseAuthentication):
    keyword = "bearer"
    _jwt = JWTAuthentication()

    def authenticate_header(self, request):
        return 'Bearer realm="api"'

    def authenticate(self, request):
        header = request_header(request, "Authorization")  # not DRF's: that reads request.headers
        if not header:
            return None
        if not header.isascii():
            raise _fail("The Authorization header must be 'Bearer <token>'.")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != self.keyword or not token or " " in token:
            raise _fail("The Authorization header must be 'Bearer <token>'.")
        if token.startswith(crypto.PREFIX):
            principal, usage = self._authenticate_api_key(request, token)
        else:
            principal, usage = self._authenticate_jwt(request, token)
        self._enforce_rate_limit(request, usage)
        return principal.user, principal

    @staticmethod
    def _enforce_rate_limit(request, usage: Usage) -> None:
        throttle = CredentialRateThrottle(usage)
        if not throttle.allow_request(request, None):
            raise exceptions.Throttled(wait=throttle.wait())

    @staticmethod
    def _find_api_key(key_digest: str) -> tuple[ApiKey | None, Usage | None]:
        """The one indexed query of the API-key path (benchmarks replace it to time the rest):
        the key with its organization and creator, and its request counted if the key exists."""
        return find_and_count(
            _API_KEY_BY_DIGEST,
            key_digest,
            counter=API_KEY_COUNTER,
            scope=API_KEY_SCOPE,
            id_field="id",
        )

    def _authenticate_api_key(self, request, key: str) -> tuple[Principal, Usage]:
        if not crypto.is_well_formed(key):
            raise _fail("Invalid API key.")
        key_digest = crypto.digest(key)
        api_key, usage = self._find_api_key(key_digest)
        now = timezone.now()
        if (
            api_key is None
            or not hmac.compare_digest(api_key.digest, key_digest)
            or not api_key.is_usable(now)
        ):
            raise _fail("Invalid API key.")  # the same answer for an unknown key and a wrong one
        requested = request_header(request, ORGANIZATION_HEADER)
        if requested is not None and requested.strip() != str(api_key.organization_id):
            raise OrganizationAccessDenied()
        api_key_touch(api_key=api_key, now=now)
        principal = Principal(
            organization=api_key.organization, user=api_key.created_by, api_key=api_key
        )
        return principal, usage

    def _authenticate_jwt(self, request, raw_token: str) -> tuple[Principal, Usage]:
        try:
            token = self._jwt.get_validated_token(raw_token.encode())
        except (exceptions.APIException, TokenError):
            raise _fail("The token is invalid or expired.") from None
        user_id = token.get(jwt_settings.USER_ID_CLAIM)
        if user_id is None:
            raise _fail("The token is invalid or expired.")

        requested = request_header(request, ORGANIZATION_HEADER)
        if requested is None:
            self._require_active_user(user_id)
            raise OrganizationIdRequired()
        organization_id = _parse_id(requested)

        membership = usage = None
        if organization_id is not None:
            membership, usage = self._find_membership(user_id, organization_id)
        if membership is None:
            self._require_active_user(user_id)
            raise OrganizationAccessDenied()
        if not membership.user.is_active:
            raise _fail("The user is inactive.")
        if not (membership.is_active and membership.organization.is_active):
            raise OrganizationAccessDenied()
        principal = Principal(
            organization=membership.organization, user=membership.user, role=membership.role
        )
        return principal, usage

    @staticmethod
    def _find_membership(user_id, organization_id: int) -> tuple[Membership | None, Usage | None]:
        """One query: the membership with its user and organization, and the user's request
        counted if the membership exists."""
        return find_and_count(
            _MEMBERSHIP,
            int(user_id),
            organization_id,
            counter=USER_COUNTER,
            scope=USER_SCOPE,
            id_field="user_id",
        )

    @staticmethod
    def _require_active_user(user_id) -> None:
        if not User.objects.filter(pk=user_id, is_active=True).exists():
            raise _fail("The user is inactive or no longer exists.")


def _parse_id(value: str) -> int | None:
    value = value.strip()
    if not value.isascii() or not value.isdigit() or len(value) > _MAX_ID_DIGITS:
        return None
    number = int(value)
    return number if 0 < number < 2**63 else None
