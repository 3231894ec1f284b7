"""Simple JWT, made to keep the contract's promises about refresh tokens.

- A refresh for a user who no longer exists is 401, like one for an inactive user (Simple JWT's
  serializer lets `DoesNotExist` escape as a 500).
- Setting a password ends the user's refresh tokens. The hook is the user's save after
  `set_password` (Django keeps the new raw password in `_password` until that save), so the
  admin's password form, `changepassword` and any code calling `set_password` all count.
"""

from django.contrib.auth import get_user_model
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.serializers import (
    TokenBlacklistSerializer,
    TokenObtainPairSerializer,
    TokenRefreshSerializer,
)

from common.fields import StrictCharField
from common.serializers import StrictInputSerializer

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
    if not created and getattr(instance, "_password", None) is not None:
        user_refresh_tokens_blacklist(user=instance)
