"""The figures on the admin's front page, scoped like every other admin page."""

from django import template
from django.db.models import Count, Q, Sum

from customers.models import Customer
from organizations.admin_scoping import scope

register = template.Library()


@register.simple_tag(takes_context=True)
def customer_dashboard(context) -> dict:
    """Customers per organization (active and inactive), and the receivable balance per currency:
    two grouped queries over the organizations the user may see."""
    request = context["request"]
    if not request.user.has_perm("customers.view_customer"):
        return {}
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
    rows = [{**row, "inactive": row["total"] - row["active"]} for row in organizations]
    return {"organizations": rows, "balances": list(balances)}
