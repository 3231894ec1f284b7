from django.contrib import admin, messages

from organizations.admin_scoping import OrganizationScopedAdmin

from .models import ApiKey
from .services import api_key_create, api_keys_revoke


@admin.register(ApiKey)
class ApiKeyAdmin(OrganizationScopedAdmin):
    """Keys are issued here and shown once, in a message; the digest is never a field, a column
    or a search term, so no page can show it."""

    list_display = [
        "name",
        "prefix",
        "organization",
        "created_by",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    ]
    list_filter = ["organization"]
    search_fields = ["name", "prefix", "organization__name"]
    list_select_related = ["organization", "created_by"]
    fields = [
        "organization",
        "name",
        "expires_at",
        "response_casing",
        "prefix",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    readonly_fields = ["prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    autocomplete_fields = ["organization"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return [*self.readonly_fields, "organization", "name"]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["expires_at", "response_casing"])
            return
        issued = api_key_create(
            organization=obj.organization,
            name=obj.name,
            created_by=request.user,
            expires_at=obj.expires_at,
            response_casing=obj.response_casing,
        )
        obj.pk = issued.api_key.pk
        obj.prefix = issued.api_key.prefix
        self.message_user(
            request,
            f"API key created. Copy it now; it will not be shown again: {issued.key}",
            messages.WARNING,
        )

    @admin.action(description="Revoke the selected keys", permissions=["change"])
    def revoke(self, request, queryset):
        count = api_keys_revoke(api_keys=queryset)
        self.message_user(request, f"Revoked {count} key(s).")
