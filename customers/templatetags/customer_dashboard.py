"""The figures on the admin's front page, scoped like every other admin page."""

from django import template
from django.core.cache import cache
from django.db.models import Count, Q, Sum
from django.utils import timezone

from customers.models import Customer
from organizations.admin_scoping import scope, scope_key

register = template.Library()

# The figures read every customer row the user may see (about a second at a million rows), so
# they are reused for a minute; the page says when they were taken.
DASHBOARD_SECONDS = 60


@register.simple_tag(takes_context=True)
def customer_dashboard(context) -> dict:
    request = context["request"]
    if not request.user.has_perm("customers.view_customer"):
        return {}
    key = f"admin-customer-dashboard-{scope_key(request)}"
    figures = cache.get(key)
    if figures is None:
        figures = _figures(request)
        cache.set(key, figures, DASHBOARD_SECONDS)
    return figures


def _figures(request) -> dict:
    """Customers per organization (active and inactive), and the receivable balance per currency:
    two grouped queries."""
    customers = scope(Customer.objects.all(), request).order_by()
    organizations = (
        customers.values("organization_id", "organization__name")
        .annotate(total=Count("id"), active=Count("id", filter=Q(active=True)))
        .order_by("organization__name", "organization_id")
    )
    balances = (
        customers.values("currency_code")
        .annotate(total=Sum("balance"), customers=Count("id"))
        .order_by("currency_code")
    )
    return {
        "organizations": [
            {**row, "inactive": row["total"] - row["active"]} for row in organizations
        ],
        "balances": list(balances),
        "as_of": timezone.now(),
    }
