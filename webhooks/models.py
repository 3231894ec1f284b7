"""Webhook endpoints of an organization, and the deliveries of its events to them.

An endpoint follows the organization's change feed (customers/events.py) from the position it was
created at: `cursor` is the last position the dispatcher has turned into deliveries for it. A
delivery is one event to one endpoint; the job engine (procrastinate, webhooks/tasks.py) sends it
and retries it, and the row keeps what happened for `GET /api/webhooks/{id}/deliveries`.
"""

from django.db import models

from customers.models import CustomerChange
from organizations.models import Organization, User

ALL_EVENTS = "*"


class WebhookEndpoint(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    name = models.CharField(max_length=255)
    url = models.URLField(max_length=2000)
    events = models.JSONField(
        default=list, help_text='Event types it receives; ["*"] for every type.'
    )
    secret = models.CharField(
        max_length=100, editable=False, help_text="Standard Webhooks signing secret (whsec_…)."
    )
    is_active = models.BooleanField(default=True)
    timeout_seconds = models.PositiveSmallIntegerField(default=10)
    cursor = models.BigIntegerField(
        default=0, editable=False, help_text="The last event position turned into deliveries."
    )
    failing_since = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="First failure since its last success."
    )
    disabled_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When delivery disabled it, after failing for WEBHOOK_DISABLE_AFTER_DAYS.",
    )
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["organization", "is_active"], name="webhook_org_active")]

    def __str__(self):
        return self.name

    def receives(self, event_type: str) -> bool:
        return ALL_EVENTS in self.events or event_type in self.events


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(CustomerChange, on_delete=models.CASCADE, related_name="+")
    event_type = models.CharField(max_length=64)
    customer_id = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "endpoint", "event"], name="webhook_delivery_one_per_event"
            )
        ]
        indexes = [
            models.Index(fields=["organization", "endpoint", "-id"], name="webhook_delivery_list")
        ]

    def __str__(self):
        return f"{self.event_type} to {self.endpoint_id}"

    @property
    def message_id(self) -> str:
        """The `webhook-id` header: the event's, the same on every attempt and every endpoint."""
        return f"evt_{self.event_id}"
