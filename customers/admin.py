from functools import wraps

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ORDER_VAR
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpResponseRedirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from common.actors import Actor, Door
from common.errors import ApplicationError
from common.paginators import EXACT_COUNT_BELOW, EstimatedCountPaginator, estimated_count
from organizations.admin_scoping import OrganizationScopedAdmin, scope_key
from organizations.models import Membership

from . import services
from .admin_forms import CustomerAdminForm, form_attributes
from .admin_io import CustomerImportExportMixin
from .admin_merge import CustomerMergeMixin, possible_duplicates_message
from .models import Customer, CustomerChange
from .queries import CUSTOMER_ATTNAMES
from .search import SEARCHED_ATTRIBUTES
from .search import search as search_customers

RECORD = ["balance", "version", "created_at", "updated_at"]
# How long the currency filter's choices are reused: finding the currencies in use reads every
# customer row, and a new currency appearing in the filter a few minutes late harms nobody.
CURRENCY_CHOICES_SECONDS = 300
RECENT_HISTORY = 10
SECTION_BY_PREFIX = (
    ("billing_address_", "Billing address"),
    ("shipping_address_", "Shipping address"),
    ("opening_balance", "Opening balance"),
    ("note", "Notes"),
)
STALE_FORM_MESSAGE = (
    "Someone else changed this customer after you opened it, so your changes were not saved. "
    "The form now shows the current version: make your edit again."
)


def _section(attribute: str) -> str:
    for prefix, section in SECTION_BY_PREFIX:
        if attribute.startswith(prefix):
            return section
    return "Contact"


def _fieldsets(*, adding: bool):
    """The form's sections, in the field table's order, from its writable fields."""
    sections = {"Contact": ["organization"], **{section: [] for _, section in SECTION_BY_PREFIX}}
    sections["Shipping address"].append("copy_billing_to_shipping")
    for attribute in form_attributes():
        sections[_section(attribute)].append(attribute)
    fieldsets = [(section, {"fields": fields}) for section, fields in sections.items()]
    if not adding:
        fieldsets += [
            ("Record", {"fields": [*RECORD, "loaded_version"]}),
            ("Recent changes", {"fields": ["recent_changes"]}),
        ]
    return fieldsets


def _refuse_politely(view):
    """Run an admin view whose writes go through the services; a refused write rolls the whole
    request back (the admin's views are atomic) and comes back as a message, not a 500."""

    @wraps(view)
    def wrapper(self, request, *args, **kwargs):
        try:
            return view(self, request, *args, **kwargs)
        except ApplicationError as error:
            message = STALE_FORM_MESSAGE if error.status_code == 412 else error.message
            self.message_user(request, message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    return wrapper


class CurrencyFilter(admin.SimpleListFilter):
    title = "currency"
    parameter_name = "currency_code"

    def lookups(self, request, model_admin):
        key = f"admin-customer-currencies-{scope_key(request)}"
        codes = cache.get(key)
        if codes is None:
            rows = model_admin.get_queryset(request).order_by("currency_code")
            codes = list(rows.values_list("currency_code", flat=True).distinct())
            cache.set(key, codes, CURRENCY_CHOICES_SECONDS)
        return [(code, code) for code in codes]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(currency_code=value) if value else queryset


def _few_rows(queryset) -> bool:
    estimate = estimated_count(queryset)
    return estimate is not None and estimate < EXACT_COUNT_BELOW


def _copy_state(target: Customer, source: Customer) -> None:
    for attname in CUSTOMER_ATTNAMES:
        setattr(target, attname, getattr(source, attname))
    target._state.adding = False


@admin.register(Customer)
class CustomerAdmin(CustomerMergeMixin, CustomerImportExportMixin, OrganizationScopedAdmin):
    form = CustomerAdminForm
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
    list_filter = ["organization", "active", "customer_type", CurrencyFilter]
    # The API's searchKeyword columns, searched for the whole phrase as the API does (see
    # get_search_results and customers/search.py, whose trigram index serves it on PostgreSQL).
    search_fields = list(SEARCHED_ATTRIBUTES)
    list_select_related = ["organization"]
    autocomplete_fields = ["organization"]
    # Newest first. The primary key orders every scope from an index: a superuser's list of all
    # organizations has no (updated_at) index to walk, and sorting a million rows takes a second.
    ordering = ["-id"]
    list_per_page = 50
    show_full_result_count = False
    # Facet counts are one COUNT per filter choice over the whole list: too dear at a million rows.
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator
    actions = ["activate", "inactivate"]
    save_as = False

    class Media:
        js = ["customers/admin/copy_billing_to_shipping.js"]
        css = {"all": ["customers/admin/customer.css"]}

    def get_search_results(self, request, queryset, search_term):
        """One phrase, not Django's word-by-word AND: "Acme Corp" finds what the API's
        searchKeyword finds, and a common word no longer drags every row into the match."""
        phrase = search_term.strip()
        if not phrase:
            return queryset, False
        found = search_customers(queryset, phrase)
        if ORDER_VAR not in request.GET and _few_rows(found):
            # Few matches, listed newest first (no column sort asked for): walking the primary
            # key backwards until 50 turn up can read the whole table; `id + 0` steers
            # PostgreSQL to the trigram index and a small sort instead. Many matches keep the
            # index order (docs/performance.md).
            found = found.order_by((F("id") + 0).desc())
        return found, False

    def get_fieldsets(self, request, obj=None):
        return _fieldsets(adding=obj is None)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["copy_billing_to_shipping"]
        return [
            "organization",
            "currency_code",
            *RECORD,
            "copy_billing_to_shipping",
            "recent_changes",
        ]

    def get_actions(self, request):
        actions = super().get_actions(request)
        # Deleting goes through customer_delete, one customer at a time from its own page.
        actions.pop("delete_selected", None)
        return actions

    @admin.display(description="Same as billing")
    def copy_billing_to_shipping(self, obj):
        return format_html(
            '<button type="button" class="button" data-copy-billing-to-shipping>{}</button>',
            "Copy billing address to shipping",
        )

    @admin.display(description="Newest first")
    def recent_changes(self, obj):
        changes = history_of(obj)[:RECENT_HISTORY]
        history_url = reverse("admin:customers_customer_history", args=[obj.pk])
        return render_to_string(
            "admin/customers/customer/history_table.html",
            {"changes": changes, "history_url": history_url},
        )

    @_refuse_politely
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return super().changeform_view(request, object_id, form_url, extra_context)

    @_refuse_politely
    def delete_view(self, request, object_id, extra_context=None):
        return super().delete_view(request, object_id, extra_context)

    def save_model(self, request, obj, form, change):
        actor = Actor(door=Door.ADMIN, user=request.user)
        if not change:
            organization = form.cleaned_data["organization"]
            created = services.customer_create(
                organization=organization, data=form.create_data(), actor=actor
            )
            _copy_state(obj, created)
            if created.possible_duplicates:
                self.message_user(
                    request,
                    possible_duplicates_message(created.possible_duplicates),
                    messages.WARNING,
                )
            return
        edit = form.edit()
        where = {"organization": obj.organization, "customer_id": obj.pk, "actor": actor}
        # The first call locks the row until the admin's transaction ends, so the later ones
        # need no If-Match of their own.
        saved = services.customer_update(**where, changes=edit.changes, if_match=edit.if_match)
        if edit.opening_balance is not None:
            saved = services.customer_set_opening_balance(**where, **edit.opening_balance)
        if edit.active is not None:
            toggle = services.customer_activate if edit.active else services.customer_inactivate
            saved = toggle(**where)
        _copy_state(obj, saved)

    def delete_model(self, request, obj):
        services.customer_delete(
            organization=obj.organization,
            customer_id=obj.pk,
            actor=Actor(door=Door.ADMIN, user=request.user),
        )

    def _set_active(self, request, queryset, *, active: bool):
        toggle = services.customer_activate if active else services.customer_inactivate
        actor = Actor(door=Door.ADMIN, user=request.user)
        done, refused = [], []
        for customer in queryset.select_related("organization").order_by("pk"):
            try:
                toggle(organization=customer.organization, customer_id=customer.pk, actor=actor)
                done.append(customer.display_name)
            except ApplicationError as error:
                refused.append(f"{customer.display_name} ({error.error_type})")
        verb = "Activated" if active else "Inactivated"
        if done:
            self.message_user(request, f"{verb} {len(done)} customer(s): {', '.join(done)}.")
        if refused:
            self.message_user(request, f"Left unchanged: {', '.join(refused)}.", messages.WARNING)

    @admin.action(description="Activate the selected customers", permissions=["change"])
    def activate(self, request, queryset):
        self._set_active(request, queryset, active=True)

    @admin.action(description="Inactivate the selected customers", permissions=["change"])
    def inactivate(self, request, queryset):
        self._set_active(request, queryset, active=False)

    def history_view(self, request, object_id, extra_context=None):
        """The customer's own change history (CustomerChange), newest first."""
        customer = self.get_object(request, unquote(object_id))
        if customer is None:
            self.message_user(
                request,
                f"No customer has the ID {object_id!r}; perhaps it was deleted.",
                messages.WARNING,
            )
            return HttpResponseRedirect(reverse("admin:index", current_app=self.admin_site.name))
        if not self.has_view_or_change_permission(request, customer):
            raise PermissionDenied
        page = Paginator(history_of(customer), 100).get_page(request.GET.get("p"))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Change history: {customer}",
            "subtitle": None,
            "object": customer,
            "opts": self.opts,
            "module_name": self.opts.verbose_name_plural.capitalize(),
            "page": page,
            "changes": page.object_list,
            "preserved_filters": self.get_preserved_filters(request),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/customers/customer/object_history.html", context)


def history_of(customer: Customer):
    return CustomerChange.objects.filter(
        organization_id=customer.organization_id, customer_id=customer.pk
    ).select_related("actor_user", "actor_api_key")


@admin.register(CustomerChange)
class CustomerChangeAdmin(OrganizationScopedAdmin):
    """Every customer's history, deleted customers' too: read-only, for organization owners."""

    roles = frozenset({Membership.Role.OWNER})
    list_display = [
        "created_at",
        "customer_display_name",
        "customer_id",
        "action",
        "door",
        "actor",
        "organization",
    ]
    list_filter = ["organization", "action", "door"]
    search_fields = ["customer_display_name"]
    list_select_related = ["organization", "actor_user", "actor_api_key"]
    # Newest first from the primary key: the history only grows, and no other index covers
    # every organization's rows in time order.
    ordering = ["-id"]
    fields = [*list_display, "changes"]
    readonly_fields = fields
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator

    @admin.display(description="Who")
    def actor(self, change):
        return change.actor_user or change.actor_api_key or "—"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
