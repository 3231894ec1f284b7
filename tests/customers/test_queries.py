"""customers/queries.py: the hot statements give the rows and objects the ORM gives, and the edit
writes both the customer and its history row, or neither."""

from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from common.actors import Actor, Door
from customers import queries
from customers.fields import FIELDS, Access
from customers.models import Customer, CustomerChange
from customers.services import change_row
from tests.budgets import EDIT_STATEMENTS, ONE_STATEMENT_EDIT
from tests.factories import seed_customer

pytestmark = pytest.mark.django_db


def values_of(customer: Customer) -> dict:
    return {name: getattr(customer, name) for name in queries.CUSTOMER_ATTNAMES}


def test_the_columns_are_the_models_concrete_fields_in_order():
    assert tuple(f.attname for f in Customer._meta.concrete_fields) == queries.CUSTOMER_ATTNAMES


def test_a_customer_is_the_orms_instance_value_for_value(tenant):
    customer = seed_customer(tenant.organization, tenant.branch)
    expected = Customer.objects.get(pk=customer.pk)

    found = queries.customer_by_id(tenant.organization.pk, customer.pk)

    assert type(found) is Customer
    assert values_of(found) == values_of(expected)
    for name, value in values_of(expected).items():
        assert type(getattr(found, name)) is type(value), name
    assert str(found.opening_balance) == str(expected.opening_balance)  # the same decimal places
    assert found.created_at.utcoffset() == expected.created_at.utcoffset()
    assert found._state.adding is False
    assert found._state.db == "default"


def test_empty_optional_fields_are_none_as_the_orm_gives_them(tenant):
    bare = Customer.objects.create(
        organization=tenant.organization,
        customer_type="business",
        display_name="Bare",
        currency_code="USD",
    )
    found = queries.customer_by_id(tenant.organization.pk, bare.pk)

    assert found.code is None
    assert found.opening_balance_at is None
    assert found.opening_balance_branch_id is None
    assert values_of(found) == values_of(Customer.objects.get(pk=bare.pk))


def test_another_organizations_customer_or_a_missing_one_is_none(tenant, other_tenant):
    assert queries.customer_by_id(tenant.organization.pk, other_tenant.customer.pk) is None
    assert queries.customer_by_id(tenant.organization.pk, 10**12) is None


def edit(customer: Customer, read_version: int, **changes) -> tuple[bool, CustomerChange]:
    for name, value in changes.items():
        setattr(customer, name, value)
    customer.version = read_version + 1
    customer.updated_at = timezone.now()
    history = change_row(
        customer=customer,
        action=CustomerChange.Action.UPDATE,
        actor=Actor(door=Door.COMMAND),
        changes={name: ("before", value) for name, value in changes.items()},
    )
    written = queries.customer_edit(
        customer, [*changes, "version", "updated_at"], read_version=read_version, history=history
    )
    return written, history


def test_an_edit_writes_the_columns_and_its_history_row_in_its_budget(tenant, max_queries):
    customer = queries.customer_by_id(tenant.organization.pk, tenant.customer.pk)
    read_version = customer.version

    with max_queries(EDIT_STATEMENTS):
        written, history = edit(
            customer, read_version, display_name="Renamed", opening_balance=Decimal("12.500")
        )

    assert written is True
    stored = Customer.objects.get(pk=customer.pk)
    assert stored.display_name == "Renamed"
    assert stored.opening_balance == Decimal("12.500")
    assert stored.version == read_version + 1
    saved = CustomerChange.objects.get(pk=history.pk)
    assert history._state.adding is False
    assert saved.customer_id == customer.pk
    assert saved.organization_id == tenant.organization.pk
    assert saved.changes == {
        "displayName": ["before", "Renamed"],
        "openingBalance": ["before", 12.5],
    }
    assert saved.door == Door.COMMAND
    assert saved.created_at is not None


def test_an_edit_of_a_changed_row_writes_nothing(tenant):
    customer = queries.customer_by_id(tenant.organization.pk, tenant.customer.pk)
    stale = customer.version
    Customer.objects.filter(pk=customer.pk).update(version=stale + 1, display_name="Theirs")
    history_before = CustomerChange.objects.count()

    written, history = edit(customer, stale, display_name="Mine")

    assert written is False
    assert history.pk is None
    assert Customer.objects.get(pk=customer.pk).display_name == "Theirs"
    assert CustomerChange.objects.count() == history_before


def test_an_edit_never_reaches_another_organizations_row(tenant, other_tenant):
    theirs = Customer.objects.get(pk=other_tenant.customer.pk)
    disguised = Customer.objects.get(pk=theirs.pk)
    disguised.organization_id = tenant.organization.pk

    written, _ = edit(disguised, theirs.version, display_name="Taken over")

    assert written is False
    assert Customer.objects.get(pk=theirs.pk).display_name == theirs.display_name


@pytest.mark.postgres_only
def test_an_edit_of_every_field_and_signal_stays_within_fifty_parameters(tenant):
    """psycopg keeps a statement's parsed form (its %s placeholders turned into $1…) between
    executions only up to 50 parameters; past that it parses the statement again every time,
    which for this statement cost more CPU than the rest of a PUT's Python (docs/performance.md).
    So the edit binds at most 50, however many fields and identity signals it writes."""
    customer = queries.customer_by_id(tenant.organization.pk, tenant.customer.pk)
    writable = [field.attribute for field in FIELDS if field.on_update is not Access.READ_ONLY]
    signals = {("email", f"e{n}@example.com") for n in range(3)}
    signals |= {("phone", f"+4930123456{n}") for n in range(4)}
    signals |= {("code", "c-1"), ("name", "acme"), ("name", "acme trading"), ("name", "jo doe")}
    customer.version += 1
    history = change_row(
        customer=customer,
        action=CustomerChange.Action.UPDATE,
        actor=Actor(door=Door.COMMAND),
        changes={attribute: (None, getattr(customer, attribute)) for attribute in writable},
    )
    bound = []

    def count_parameters(execute, sql, params, many, context):
        bound.append(len(params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count_parameters):
        written = queries.customer_edit(
            customer,
            [*writable, "version", "updated_at"],
            read_version=customer.version - 1,
            history=history,
            signals=signals,
        )

    assert written is True
    assert len(writable) > 20  # every field of the contract's customer an update may write
    if ONE_STATEMENT_EDIT:  # on a Citus coordinator, separate statements, each within 50 too
        assert len(bound) == 1
    assert max(bound) <= 50
