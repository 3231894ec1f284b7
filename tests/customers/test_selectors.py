"""customers/selectors.py: the one-customer reads, compiled once, answer what the ORM would."""

from datetime import UTC, datetime

import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from customers import selectors
from customers.models import Customer
from tests.factories import CustomerFactory, seed_customer

pytestmark = pytest.mark.django_db


def same_row(found: Customer, expected: Customer) -> None:
    assert type(found) is Customer
    for field in Customer._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(expected, field.attname), field.name
    assert found._state.adding is False
    assert found._state.db == "default"


def test_customer_get_matches_the_orm_and_costs_one_query(tenant, max_queries):
    customer = seed_customer(tenant.organization, tenant.branch)
    expected = Customer.objects.get(pk=customer.pk)

    with max_queries(1):
        found = selectors.customer_get(organization=tenant.organization, customer_id=customer.pk)

    same_row(found, expected)
    assert found.opening_balance_branch == tenant.branch


def test_customer_get_is_none_for_another_organizations_customer_or_none(tenant, other_tenant):
    other = other_tenant.customer.pk
    assert selectors.customer_get(organization=tenant.organization, customer_id=other) is None
    assert selectors.customer_get(organization=tenant.organization, customer_id=10**12) is None
    assert selectors.customer_get(organization=other_tenant.organization, customer_id=other)


def test_customer_get_for_update_locks_the_row_and_matches_the_orm(tenant, other_tenant):
    expected = Customer.objects.get(pk=tenant.customer.pk)
    organization = tenant.organization

    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        found = selectors.customer_get_for_update(
            organization=organization, customer_id=tenant.customer.pk
        )
        foreign = selectors.customer_get_for_update(
            organization=organization, customer_id=other_tenant.customer.pk
        )

    same_row(found, expected)
    assert foreign is None
    if connection.features.has_select_for_update:
        assert all(query["sql"].endswith("FOR UPDATE") for query in queries.captured_queries)


@pytest.mark.django_db(transaction=True)
def test_customer_get_for_update_refuses_to_run_outside_a_transaction(tenant):
    # The ORM's select_for_update() says the same: a lock that ends with the statement is no lock.
    with pytest.raises(TransactionManagementError):
        selectors.customer_get_for_update(
            organization=tenant.organization, customer_id=tenant.customer.pk
        )


@pytest.fixture
def many(tenant, other_tenant):
    """Seven customers of A (ties on name and balance, some inactive), one of B."""
    rows = [
        ("Beta", "5", True),
        ("alpha", "5", False),
        ("Beta", "1", True),
        ("Gamma", "-2", False),
        ("delta", "5", True),
        ("Beta", "0", True),
    ]
    for name, balance, active in rows:
        CustomerFactory(
            organization=tenant.organization, display_name=name, balance=balance, active=active
        )
    CustomerFactory(organization=other_tenant.organization, display_name="Other")


@pytest.mark.parametrize("sort_by", ["createdAt", "displayName", "balance", "code", "active"])
@pytest.mark.parametrize("descending", [True, False])
@pytest.mark.parametrize("active", [None, True, False])
def test_compiled_pages_are_the_orms_pages(tenant, many, sort_by, descending, active):
    listed = selectors.customer_list(
        organization=tenant.organization, sort_by=sort_by, descending=descending, active=active
    )
    orm = listed.queryset

    assert listed.pages is not None
    for start, stop in [(0, 12), (0, 3), (2, 5), (5, 9), (40, 52)]:
        assert [c.pk for c in listed[start:stop]] == [c.pk for c in orm[start:stop]]
    [first] = listed[0:1]
    same_row(first, Customer.objects.get(pk=first.pk))
    with CaptureQueriesContext(connection) as queries:
        assert listed.count() == orm.count() == {None: 7, True: 5, False: 2}[active]
    compiled_count, orm_count = (query["sql"] for query in queries.captured_queries)
    assert compiled_count == orm_count


def test_a_search_or_a_date_filter_pages_through_the_orm(tenant, many):
    for filters in [{"search": "beta"}, {"updated_since": datetime(2000, 1, 1, tzinfo=UTC)}]:
        listed = selectors.customer_list(organization=tenant.organization, **filters)
        assert listed.pages is None
        assert [c.pk for c in listed[0:12]] == [c.pk for c in listed.queryset[0:12]]


def test_a_page_costs_one_query(tenant, many, max_queries):
    listed = selectors.customer_list(organization=tenant.organization, sort_by="displayName")
    listed[0:2]  # compiled on first use: no query of its own either way

    with max_queries(1):
        assert len(listed[1:4]) == 3
