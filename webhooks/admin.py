"""Webhooks in the back office: endpoints made, changed and toggled through webhooks.services (the
secret shown once, in a message), their deliveries listed and sent again, and a warning on the
list for every endpoint that delivery disabled for failing."""

from django import forms
from django.contrib import admin, messages
from django.db import transaction

from authkeys.permissions import MANAGER_ROLES
from common.errors import ApplicationError
from organizations.admin_scoping import OrganizationScopedAdmin

from . import addresses, services, tasks
from .models import WebhookDelivery, WebhookEndpoint
from .serializers import EVENT_CHOICES


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=2000, assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=[(choice, choice) for choice in EVENT_CHOICES],
        widget=forms.CheckboxSelectMultiple,
        help_text="* receives every type.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["organization", "name", "url", "events", "timeout_seconds"]

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            addresses.check_url(url)
        except addresses.UnsafeURL as error:
            raise forms.ValidationError(str(error)) from None
        return url

    def clean(self):
        if not services.available():
            raise forms.ValidationError(
                "Webhooks need PostgreSQL: this server keeps its data in SQLite."
            )
        return super().clean()


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(OrganizationScopedAdmin):
    form = WebhookEndpointForm
    roles = MANAGER_ROLES
    list_display = ["name", "url", "organization", "is_active", "failing_since", "disabled_at"]
    list_filter = ["organization", "is_active"]
    search_fields = ["name", "url", "organization__name"]
    list_select_related = ["organization"]
    readonly_fields = ["is_active", "failing_since", "disabled_at", "created_by", "created_at"]
    autocomplete_fields = ["organization"]
    actions = ["toggle"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return [*self.readonly_fields, "organization"]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            services.endpoint_change(
                endpoint=obj,
                **{name: data[name] for name in form.changed_data if name != "organization"},
            )
            return
        created = services.endpoint_create(
            organization=data["organization"],
            name=data["name"],
            url=data["url"],
            event_types=data["events"],
            timeout_seconds=data["timeout_seconds"],
            created_by=request.user,
        )
        obj.pk = created.pk
        self.message_user(
            request,
            f"Webhook created. Its signing secret, shown only now: {created.secret}",
            messages.WARNING,
        )

    def delete_model(self, request, obj):
        services.endpoint_delete(endpoint=obj)

    def delete_queryset(self, request, queryset):
        for endpoint in queryset:
            services.endpoint_delete(endpoint=endpoint)

    def changelist_view(self, request, extra_context=None):
        disabled = self.get_queryset(request).filter(disabled_at__isnull=False, is_active=False)
        for endpoint in disabled.select_related("organization"):
            self.message_user(
                request,
                f"{endpoint.organization}: the webhook “{endpoint.name}” failed for "
                f"{endpoint.disabled_at - endpoint.failing_since} and was disabled on "
                f"{endpoint.disabled_at:%Y-%m-%d %H:%M} UTC. Fix the receiver, then activate it.",
                messages.WARNING,
            )
        return super().changelist_view(request, extra_context)

    @admin.action(
        description="Activate or deactivate the selected webhooks", permissions=["change"]
    )
    def toggle(self, request, queryset):
        try:
            for endpoint in queryset:
                services.endpoint_toggle(endpoint=endpoint)
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(OrganizationScopedAdmin):
    roles = MANAGER_ROLES
    list_display = [
        "event_type",
        "endpoint",
        "customer_id",
        "status",
        "attempts",
        "response_status",
        "error",
        "last_attempt_at",
    ]
    list_filter = ["status", "event_type", "organization"]
    list_select_related = ["endpoint", "organization"]
    actions = ["redeliver"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Send the selected deliveries again", permissions=["view"])
    def redeliver(self, request, queryset):
        try:
            with transaction.atomic():
                deliveries = [
                    services.redeliver(delivery=delivery)
                    for delivery in queryset.select_related("endpoint")
                ]
                tasks.queue_deliveries(deliveries)
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        self.message_user(request, f"Queued {len(deliveries)} delivery(ies) again.")
