"""customers/selectors.py: the one-customer reads, compiled once, answer what the ORM would."""

import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from customers import selectors
from customers.models import Customer
from tests.factories import seed_customer

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
