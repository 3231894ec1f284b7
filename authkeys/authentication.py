"""Bearer authentication: an API key (`bc_…`) or a Simple JWT access token.

This is the one place that decides which organization a request acts for. It returns
`(user, principal)`; views read the organization from `request.auth.organization`, never from the
body or the URL. Finding the credential is one query (authkeys.queries: the key's row, or the
JWT's membership, with the rows it needs). Counting the request against the credential's rate
limit is authkeys.throttling.CredentialRateThrottle's job, once the credential has passed.
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
from organizations.models import Organization, User

from . import crypto, queries
from .models import ApiKey
from .services import api_key_touch

ORGANIZATION_HEADER = "organization-id"
# Organization ids are 64-bit; anything longer is not an id we could have issued.
_MAX_ID_DIGITS = 19


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

    @property
    def response_casing(self) -> str:
        """How answers to this credential spell their keys (common.renderers reads it): the key's
        own choice, else its organization's."""
        own = self.api_key.response_casing if self.api_key is not None else ""
        return own or self.organization.response_casing


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
            principal = self._authenticate_api_key(request, token)
        else:
            principal = self._authenticate_jwt(request, token)
        return principal.user, principal

    @staticmethod
    def _find_api_key(key_digest: str) -> ApiKey | None:
        """The one query of the API-key path (bench/auth.py replaces it to time the rest)."""
        return queries.api_key_by_digest(key_digest)

    def _authenticate_api_key(self, request, key: str) -> Principal:
        if not crypto.is_well_formed(key):
            raise _fail("Invalid API key.")
        key_digest = crypto.digest(key)
        api_key = self._find_api_key(key_digest)
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
        return Principal(
            organization=api_key.organization, user=api_key.created_by, api_key=api_key
        )

    def _authenticate_jwt(self, request, raw_token: str) -> Principal:
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

        membership = None
        if organization_id is not None:
            membership = queries.membership_of(int(user_id), organization_id)
        if membership is None:
            self._require_active_user(user_id)
            raise OrganizationAccessDenied()
        if not membership.user.is_active:
            raise _fail("The user is inactive.")
        if not (membership.is_active and membership.organization.is_active):
            raise OrganizationAccessDenied()
        return Principal(
            organization=membership.organization, user=membership.user, role=membership.role
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
