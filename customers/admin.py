from django.contrib import admin, messages

from common.actors import Actor, Door
from common.errors import ApplicationError

from .admin_io import CustomerImportExportMixin
from .models import Customer
from .services import customer_update

READ_ONLY = [
    "currency_code",
    "opening_balance",
    "opening_balance_at",
    "opening_balance_exchange_rate",
    "opening_balance_branch",
    "balance",
    "version",
    "created_at",
    "updated_at",
]


@admin.register(Customer)
class CustomerAdmin(CustomerImportExportMixin, admin.ModelAdmin):
    list_display = [
        "display_name",
        "company_name",
        "email",
        "currency_code",
        "balance",
        "active",
        "organization",
        "updated_at",
    ]
    list_filter = ["active", "customer_type", "currency_code"]
    search_fields = ["display_name", "company_name", "email", "code"]
    list_select_related = ["organization"]
    autocomplete_fields = ["organization"]

    def get_readonly_fields(self, request, obj=None):
        return (
            [*READ_ONLY, "organization"]
            if obj is not None
            else ["balance", "version", "created_at", "updated_at"]
        )

    def save_model(self, request, obj, form, change):
        if not change:
            obj.balance = obj.opening_balance
            super().save_model(request, obj, form, change)
            return
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            updated = customer_update(
                organization=obj.organization,
                customer_id=obj.pk,
                changes=changes,
                actor=Actor(door=Door.ADMIN, user=request.user),
            )
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        obj.version, obj.updated_at = updated.version, updated.updated_at
