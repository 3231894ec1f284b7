"""API keys on the wire: what a client may send, and what it is shown (never a digest)."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from common.fields import DateOrDateTimeField, StrictCharField, StrictChoiceField
from common.serializers import StrictInputSerializer
from organizations.models import ResponseCasing


class ApiKeyCreatorSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    email = serializers.EmailField(read_only=True)


CASING_HELP = (
    "How answers to this key spell their keys: `camel` (Bigcapital's document) or `snake` "
    "(Bigcapital's live server); null: the organization's setting. Input takes both."
)
TOKEN_SHOWN = 8  # Bigcapital shows a key as its first 8 characters and "..."


class ApiKeySerializer(serializers.Serializer):
    """A key's public fields: enough to recognise and audit it, nothing to use it with.

    Bigcapital's ApiKeyListItemDto (`id`, `name`, `token`, `createdAt`, `expiresAt`, `revoked`)
    and Counterpart's own (`prefix`, `lastUsedAt`, `revokedAt`, `createdBy`)."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    token = serializers.SerializerMethodField(
        help_text="The key masked as Bigcapital shows it: its first 8 characters and '...'."
    )
    revoked = serializers.SerializerMethodField(help_text="Whether the key has been revoked.")
    prefix = serializers.CharField(
        read_only=True, help_text="The key's first characters (bc_ and 8 hex), to recognise it."
    )
    createdAt = DateOrDateTimeField(source="created_at", read_only=True)
    lastUsedAt = DateOrDateTimeField(source="last_used_at", read_only=True, allow_null=True)
    expiresAt = DateOrDateTimeField(source="expires_at", read_only=True, allow_null=True)
    revokedAt = DateOrDateTimeField(source="revoked_at", read_only=True, allow_null=True)
    createdBy = ApiKeyCreatorSerializer(source="created_by", read_only=True, allow_null=True)
    responseCasing = serializers.SerializerMethodField(help_text=CASING_HELP)

    def get_token(self, api_key) -> str:
        return f"{api_key.prefix[:TOKEN_SHOWN]}..."

    def get_revoked(self, api_key) -> bool:
        return api_key.revoked_at is not None

    @extend_schema_field(serializers.ChoiceField(choices=ResponseCasing.choices, allow_null=True))
    def get_responseCasing(self, api_key) -> str | None:
        return api_key.response_casing or None


class IssuedApiKeySerializer(ApiKeySerializer):
    key = serializers.CharField(read_only=True, help_text="The full key. It is shown only now.")


class ApiKeyGenerateSerializer(StrictInputSerializer):
    """A new key: its name and, if it should stop working one day, when."""

    name = StrictCharField(
        max_length=255,
        required=False,
        allow_blank=True,
        default="",
        help_text="What the key is for, e.g. 'CRM sync'. Optional, as in Bigcapital.",
    )
    expiresAt = DateOrDateTimeField(
        required=False,
        allow_null=True,
        help_text="When the key stops working; absent or null: it never expires.",
    )

    responseCasing = StrictChoiceField(
        choices=ResponseCasing.choices,
        required=False,
        allow_null=True,
        default=None,
        help_text=CASING_HELP,
    )

    def validate_expiresAt(self, value):
        if value is not None and value <= timezone.now():
            raise ValidationError("Must be in the future.")
        return value


class ApiKeyChangeSerializer(StrictInputSerializer):
    """A key's name or casing; leave out what stays."""

    name = StrictCharField(max_length=255, required=False, allow_blank=True)
    responseCasing = StrictChoiceField(
        choices=ResponseCasing.choices, required=False, allow_null=True, help_text=CASING_HELP
    )
