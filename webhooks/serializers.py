"""Webhook endpoints and deliveries on the wire (Bigcapital's field names: name, url, events)."""

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from common.fields import DateOrDateTimeField, StrictCharField, StrictIntegerField
from common.serializers import StrictInputSerializer
from customers import events
from customers.api.events import EventSerializer

from .models import ALL_EVENTS


@extend_schema_field({"type": "string", "format": "uri", "pattern": "^https://", "maxLength": 2000})
class WebhookURLField(StrictCharField):
    """Described to OpenAPI as an https URI; checked, resolved included, by webhooks.addresses
    (development's WEBHOOKS_ALLOW_LOOPBACK_HTTP admits http:// too)."""


EVENT_CHOICES = [ALL_EVENTS, *events.TYPES.values()]
EVENTS_HELP = (
    'The event types to receive, or `["*"]` for all: '
    + ", ".join(f"`{event_type}`" for event_type in events.TYPES.values())
    + "."
)
MAX_TIMEOUT_SECONDS = 30


@extend_schema_serializer(component_name="Webhook")
class WebhookSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    url = serializers.CharField(read_only=True)
    events = serializers.ListField(child=serializers.CharField(), read_only=True)
    active = serializers.BooleanField(source="is_active", read_only=True)
    timeoutSeconds = serializers.IntegerField(source="timeout_seconds", read_only=True)
    failingSince = DateOrDateTimeField(
        source="failing_since",
        read_only=True,
        allow_null=True,
        help_text="When deliveries began to fail, if the last one failed.",
    )
    disabledAt = DateOrDateTimeField(
        source="disabled_at",
        read_only=True,
        allow_null=True,
        help_text="When delivery disabled the webhook for failing too long; toggle to resume.",
    )
    createdAt = DateOrDateTimeField(source="created_at", read_only=True)
    updatedAt = DateOrDateTimeField(source="updated_at", read_only=True)


@extend_schema_serializer(component_name="CreatedWebhook")
class CreatedWebhookSerializer(WebhookSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="The Standard Webhooks signing secret (whsec_…). Shown only now.",
    )


class _WebhookInput(StrictInputSerializer):
    name = StrictCharField(max_length=255)
    url = WebhookURLField(
        max_length=2000,
        help_text="https, and a host that resolves to public addresses only.",
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_CHOICES),
        min_length=1,
        max_length=len(EVENT_CHOICES),
        help_text=EVENTS_HELP,
    )
    timeoutSeconds = StrictIntegerField(
        min_value=1,
        max_value=MAX_TIMEOUT_SECONDS,
        required=False,
        help_text="How long one attempt may take; 10 by default.",
    )

    def validate_events(self, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


@extend_schema_serializer(component_name="WebhookCreate")
class WebhookCreateSerializer(_WebhookInput):
    pass


@extend_schema_serializer(component_name="WebhookChange")
class WebhookChangeSerializer(_WebhookInput):
    """Leave out what stays."""


@extend_schema_serializer(component_name="WebhookDelivery")
class DeliverySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    webhookId = serializers.CharField(
        source="message_id",
        read_only=True,
        help_text="The `webhook-id` header: the same on every attempt.",
    )
    eventId = serializers.IntegerField(source="event_id", read_only=True)
    eventType = serializers.CharField(source="event_type", read_only=True)
    customerId = serializers.IntegerField(source="customer_id", read_only=True)
    status = serializers.CharField(
        read_only=True, help_text="pending, succeeded, failed, cancelled."
    )
    attempts = serializers.IntegerField(read_only=True)
    responseStatus = serializers.IntegerField(
        source="response_status", read_only=True, allow_null=True
    )
    error = serializers.CharField(read_only=True)
    lastAttemptAt = DateOrDateTimeField(source="last_attempt_at", read_only=True, allow_null=True)
    deliveredAt = DateOrDateTimeField(source="delivered_at", read_only=True, allow_null=True)
    createdAt = DateOrDateTimeField(source="created_at", read_only=True)


@extend_schema_serializer(component_name="WebhookPayload")
class WebhookPayloadSerializer(serializers.Serializer):
    """The body of every delivery (Standard Webhooks' `type`, `timestamp`, `data`)."""

    type = serializers.ChoiceField(choices=list(events.TYPES.values()), read_only=True)
    timestamp = serializers.DateTimeField(read_only=True, help_text="When the change committed.")
    data = EventSerializer(read_only=True, help_text="The event as `GET /api/events` shows it.")
