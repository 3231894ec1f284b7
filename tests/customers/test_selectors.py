"""customers/selectors.py: the one-customer reads answer what the ORM would; lists are ordered."""

import itertools

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
def test_a_list_is_the_organizations_customers_in_a_total_order(
    tenant, many, sort_by, descending, active
):
    listed = selectors.customer_list(
        organization=tenant.organization, sort_by=sort_by, descending=descending, active=active
    )

    rows = list(listed)
    attribute = selectors.SORT_COLUMNS[sort_by]
    keys = [getattr(c, attribute) for c in rows]
    if sort_by in ("createdAt", "balance", "active"):  # text sorts by the database's collation
        assert keys == sorted(keys, reverse=descending)
    for before, after in itertools.pairwise(rows):
        if getattr(before, attribute) == getattr(after, attribute):  # ties: by id, same direction
            assert (before.pk > after.pk) if descending else (before.pk < after.pk)
    assert {c.organization_id for c in rows} == {tenant.organization.pk}
    assert all(active is None or c.active is active for c in rows)
    assert listed.count() == len(rows) == {None: 7, True: 5, False: 2}[active]


def test_a_page_costs_one_query(tenant, many, max_queries):
    listed = selectors.customer_list(organization=tenant.organization, sort_by="displayName")

    with max_queries(1):
        assert len(listed[1:4]) == 3
