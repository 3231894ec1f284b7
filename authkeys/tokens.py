"""Simple JWT, made to keep the contract's promises about refresh tokens.

- A refresh for a user who no longer exists is 401, like one for an inactive user (Simple JWT's
  serializer lets `DoesNotExist` escape as a 500).
- Setting a password ends the user's refresh tokens. The hook is the user's save after
  `set_password` (the user model marks itself in `password_was_set`), so the admin's password
  form, `changepassword` and any code calling `set_password` all count.
"""

from django.contrib.auth import get_user_model
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied
from rest_framework_simplejwt.serializers import (
    TokenBlacklistSerializer,
    TokenObtainPairSerializer,
    TokenRefreshSerializer,
)

from common.fields import StrictCharField
from common.naming import to_camel
from common.serializers import StrictInputSerializer
from organizations.selectors import sign_in_membership

from .services import user_refresh_tokens_blacklist


def _strict_token_field() -> StrictCharField:
    return StrictCharField(write_only=True, help_text="A refresh token.")


class SignInSerializer(StrictInputSerializer, TokenObtainPairSerializer):
    """An email and a password: strings without NUL, and nothing else."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[self.username_field] = StrictCharField(write_only=True)
        self.fields["password"] = StrictCharField(
            write_only=True, trim_whitespace=False, style={"input_type": "password"}
        )


class LogoutSerializer(StrictInputSerializer, TokenBlacklistSerializer):
    """The refresh token to end."""

    refresh = _strict_token_field()


class RefreshSerializer(StrictInputSerializer, TokenRefreshSerializer):
    """The refresh token to exchange; it is blacklisted and a new one is returned."""

    refresh = _strict_token_field()

    def validate(self, attrs):
        try:
            return super().validate(attrs)
        except get_user_model().DoesNotExist:
            raise AuthenticationFailed(
                self.error_messages["no_active_account"], "no_active_account"
            ) from None


def end_sessions_on_password_change(sender, instance, created, **kwargs):
    if instance.password_was_set:
        instance.password_was_set = False
        if not created:
            user_refresh_tokens_blacklist(user=instance)


class NoActiveOrganization(PermissionDenied):
    default_detail = "You are not an active member of any active organization."
    default_code = "organization_access_denied"


class BigcapitalSignInSerializer(SignInSerializer):
    """Bigcapital's AuthSigninDto in, its sign-in answer out: the access token and the
    organization it was issued for (see organizations.selectors.sign_in_membership)."""

    def validate(self, attrs):
        tokens = super().validate(attrs)  # wrong email or password: AuthenticationFailed (401)
        membership = sign_in_membership(self.user)
        if membership is None:
            raise NoActiveOrganization()
        # Bigcapital's server answers snake_case and documents camelCase: both are here.
        # organization_id is a string, as Bigcapital's; it is what the client sends back in the
        # organization-id header. Counterpart's tenant is the organization.
        answer = {
            "access_token": tokens["access"],
            "refresh_token": tokens["refresh"],
            "organization_id": str(membership.organization_id),
            "tenant_id": membership.organization_id,
            "user_id": self.user.pk,
        }
        return {**answer, **{to_camel(key): value for key, value in answer.items()}}
