"""Reads of customers and their history. Every selector takes the organization: no default scope.

Searching is customers/search.py's: `icontains` on each searched column, found through one
trigram index on PostgreSQL.
"""

from datetime import datetime

from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce

from organizations.models import Organization

from . import queries
from .fields import FIELDS, Kind
from .models import Customer, CustomerChange
from .search import search as search_customers

_COLUMNS = set(queries.CUSTOMER_ATTNAMES)
# Sortable: every field of the resource stored in a column, except the 64 KB note. The closing
# balance is the balance (Customer.closing_balance), so it sorts as the balance.
SORT_COLUMNS = {
    field.name: field.attribute
    for field in FIELDS
    if field.attribute in _COLUMNS and field.kind is not Kind.NOTE
} | {"closingBalance": "balance"}
DEFAULT_SORT = "createdAt"


def customer_list(
    *,
    organization: Organization,
    search: str | None = None,
    sort_by: str = DEFAULT_SORT,
    descending: bool = True,
    active: bool | None = None,
    updated_since: datetime | None = None,
    conditions: list[Q] = (),
) -> QuerySet[Customer]:
    """The organization's customers, filtered, in a total order (ties broken by id).
    `conditions` (customers/filter_roles.py: a view, filter roles) must all hold."""
    customers = Customer.objects.filter(*conditions, organization=organization)
    if search:
        customers = search_customers(customers, search)
    if active is not None:
        customers = customers.filter(active=active)
    if updated_since is not None:
        customers = customers.filter(updated_at__gte=updated_since)
    key = F(SORT_COLUMNS[sort_by])
    if search:
        # Sort a search by an expression no index provides. Otherwise PostgreSQL may walk the sort
        # index and filter row by row, hoping to meet 12 matches early; when the matches cluster
        # at the far end (old rows, say) it reads most of the table. This way it takes the
        # matches from the trigram index and sorts only those: the same work as the page's COUNT.
        key = Coalesce(key, key)
    if descending:
        return customers.order_by(key.desc(), F("id").desc())
    return customers.order_by(key.asc(), F("id").asc())


def customer_history(*, organization: Organization, customer_id: int) -> QuerySet[CustomerChange]:
    """A customer's changes, newest first, with who made them."""
    return (
        CustomerChange.objects.filter(organization=organization, customer_id=customer_id)
        .select_related("actor_user", "actor_api_key")
        .order_by("-created_at", "-id")
    )


def customer_exists(*, organization: Organization, customer_id: int) -> bool:
    return Customer.objects.filter(organization=organization, pk=customer_id).exists()


def customer_get(*, organization: Organization, customer_id: int) -> Customer | None:
    """The organization's customer with this id, or None (another organization's included)."""
    return queries.customer_by_id(organization.pk, customer_id)


def customer_get_for_update(*, organization: Organization, customer_id: int) -> Customer | None:
    """The same, row-locked (`SELECT … FOR UPDATE`) until the transaction ends."""
    return queries.customer_by_id(organization.pk, customer_id, for_update=True)
