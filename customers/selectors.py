"""Reads of customers and their history. Every selector takes the organization: no default scope.

Searching is customers/search.py's: `icontains` on each searched column, found through one
trigram index on PostgreSQL.
"""

import functools
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router, transaction
from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce
from django.db.transaction import TransactionManagementError

from organizations.models import Organization

from .compiled_lookups import CompiledLookup
from .fields import FIELDS, Kind
from .models import Customer, CustomerChange
from .search import search as search_customers

_COLUMNS = {field.attname for field in Customer._meta.concrete_fields}
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
) -> "CustomerList":
    """The organization's customers, filtered, in a total order (ties broken by id)."""
    customers = _customers(
        organization.pk,
        search=search,
        sort_by=sort_by,
        descending=descending,
        active=active,
        updated_since=updated_since,
    )
    pages = None
    if not search and updated_since is None:
        pages = _compiled_pages(sort_by, descending, active)
    return CustomerList(customers, organization.pk, pages)


def _customers(
    organization_id: int,
    *,
    search: str | None,
    sort_by: str,
    descending: bool,
    active: bool | None,
    updated_since: datetime | None,
) -> QuerySet[Customer]:
    customers = Customer.objects.filter(organization_id=organization_id)
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
        # at the far end (old rows, say) it reads most of the table (2.3 s on 1M customers). This
        # way it takes the matches from the trigram index and sorts only those: the same work
        # as the page's COUNT. docs/performance.md has the plans.
        key = Coalesce(key, key)
    if descending:
        return customers.order_by(key.desc(), F("id").desc())
    return customers.order_by(key.asc(), F("id").asc())


class CompiledPages(CompiledLookup):
    """Pages (LIMIT/OFFSET) of a queryset and its count, their SQL compiled once per database the
    way CompiledLookup compiles a lookup's; `make_queryset(*params)` filters one table by exactly
    `params`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._counts: dict[str, str] = {}

    def count(self, params: list) -> int:
        alias = router.db_for_read(self.model)
        sql = self._counts.get(alias) or self._compile_count(alias)
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]

    def rows(self, params: list, *, offset: int, limit: int) -> list:
        alias = router.db_for_read(self.model)
        compiled = self._by_alias.get(alias) or self._compile(alias)
        connection = connections[alias]
        window = connection.ops.limit_offset_sql(offset, offset + limit)
        with connection.cursor() as cursor:
            cursor.execute(f"{compiled.sql} {window}", params)
            rows = cursor.fetchall()
        if compiled.converters:
            rows = compiled.compiler.apply_converters(rows, compiled.converters)
        return [self.model.from_db(alias, compiled.attnames, row[compiled.fields]) for row in rows]

    def _compile(self, alias: str):
        compiled = super()._compile(alias)
        # LIMIT/OFFSET must be the last clause Django writes for this query on this database.
        sliced = self._make_queryset(*self._sentinels)[7:12].query.get_compiler(using=alias)
        window = connections[alias].ops.limit_offset_sql(7, 12)
        if compiled.populators or sliced.as_sql()[0] != f"{compiled.sql} {window}":
            del self._by_alias[alias]
            raise ImproperlyConfigured(f"{self.model.__name__}: these pages cannot be compiled")
        return compiled

    def _compile_count(self, alias: str) -> str:
        # What QuerySet.count() sends for a filter of one table (tests compare the two): the
        # page's own WHERE under a COUNT(*).
        compiler = (self._by_alias.get(alias) or self._compile(alias)).compiler
        query = compiler.query
        tables = [name for name, uses in query.alias_refcount.items() if uses]
        if len(tables) != 1 or query.distinct or query.annotations or query.extra:
            raise ImproperlyConfigured(f"{self.model.__name__}: this count cannot be compiled")
        where, params = compiler.compile(compiler.where)
        if tuple(params) != self._sentinels:
            raise ImproperlyConfigured(f"{self.model.__name__} count: parameters out of order")
        quote = connections[alias].ops.quote_name
        sql = f"SELECT COUNT(*) AS {quote('__count')} FROM {quote(tables[0])} WHERE {where}"  # noqa: S608
        self._counts[alias] = sql
        return sql


@functools.cache
def _compiled_pages(sort_by: str, descending: bool, active: bool | None) -> CompiledPages:
    # One per ordering and active filter (at most a few hundred), built on first use. A search or
    # an updatedSince filter goes through the ORM as before.
    return CompiledPages(
        Customer,
        lambda organization_id: _customers(
            organization_id,
            search=None,
            sort_by=sort_by,
            descending=descending,
            active=active,
            updated_since=None,
        ),
        sentinels=[1],
    )


@dataclass(frozen=True)
class CustomerList:
    """What customer_list gives paginate: its count, and its rows by slice.

    Compiling the page's SELECT of 45 columns, with its ordering, and its COUNT was two fifths of
    a list request's CPU; a list without search or updatedSince runs SQL compiled once per process.
    """

    queryset: QuerySet[Customer]
    organization_id: int
    pages: CompiledPages | None

    def count(self) -> int:
        if self.pages is None:
            return self.queryset.count()
        return self.pages.count([self.organization_id])

    def __getitem__(self, window: slice) -> list[Customer]:
        if self.pages is None:
            return list(self.queryset[window])
        start = window.start or 0
        return self.pages.rows([self.organization_id], offset=start, limit=window.stop - start)


def customer_history(*, organization: Organization, customer_id: int) -> QuerySet[CustomerChange]:
    """A customer's changes, newest first, with who made them."""
    return (
        CustomerChange.objects.filter(organization=organization, customer_id=customer_id)
        .select_related("actor_user", "actor_api_key")
        .order_by("-created_at", "-id")
    )


def customer_exists(*, organization: Organization, customer_id: int) -> bool:
    return Customer.objects.filter(organization=organization, pk=customer_id).exists()


# Every request for one customer (a read, an edit, an action) reads its row by organization and
# id. Django would compile that query to SQL on every request, a quarter of a GET's CPU for a
# 45-column model; these are compiled once per process by the mechanism the authentication path
# uses (authkeys.lookups), and give the same model instances.
_CUSTOMER = CompiledLookup(
    Customer,
    lambda organization_id, customer_id: Customer.objects.filter(
        organization_id=organization_id
    ).filter(pk=customer_id),
    sentinels=[1, 2],
)
_CUSTOMER_FOR_UPDATE = CompiledLookup(
    Customer,
    lambda organization_id, customer_id: (
        Customer.objects.select_for_update()
        .filter(organization_id=organization_id)
        .filter(pk=customer_id)
    ),
    sentinels=[1, 2],
)


def customer_get(*, organization: Organization, customer_id: int) -> Customer | None:
    """The organization's customer with this id, or None (another organization's included)."""
    return _CUSTOMER.get(organization.pk, customer_id)


def customer_get_for_update(*, organization: Organization, customer_id: int) -> Customer | None:
    """The same, row-locked (`SELECT … FOR UPDATE`) until the transaction ends."""
    if transaction.get_autocommit():
        # What select_for_update() says too: outside a transaction the lock would end at once.
        raise TransactionManagementError(
            "select_for_update cannot be used outside of a transaction."
        )
    return _CUSTOMER_FOR_UPDATE.get(organization.pk, customer_id)
