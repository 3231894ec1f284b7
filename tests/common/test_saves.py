"""common/saves.py writes what Model.save writes, with the same SQL, or lets Model.save do it."""

from datetime import UTC, datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.db import DatabaseError, connection
from django.db.models.signals import post_save, pre_save
from django.test.utils import CaptureQueriesContext

from common import saves
from common.actors import Door
from customers.models import Customer, CustomerChange
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)


def statements(write) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        write()
    return [query["sql"] for query in queries.captured_queries]


def stored(customer: Customer) -> dict:
    row = Customer.objects.get(pk=customer.pk)
    return {field.attname: getattr(row, field.attname) for field in Customer._meta.concrete_fields}


def test_update_sends_the_statement_model_save_sends(tenant):
    customer = CustomerFactory(organization=tenant.organization, code="C-1")
    fields = ["display_name", "code", "opening_balance", "opening_balance_branch_id", "version"]

    def edit(write):
        customer.display_name, customer.code = "Renamed", None  # NULL is written as NULL
        customer.opening_balance, customer.opening_balance_branch_id = Decimal("12.5"), None
        customer.version = 7
        return statements(write)

    by_django = edit(lambda: customer.save(update_fields=fields))
    by_saves = edit(lambda: saves.update(customer, fields))

    assert by_saves == by_django
    assert len(by_saves) == 1
    assert (stored(customer)["display_name"], stored(customer)["code"]) == ("Renamed", None)
    assert stored(customer)["opening_balance"] == Decimal("12.5")


def test_update_writes_only_the_named_fields_and_runs_auto_now(tenant):
    customer = CustomerFactory(organization=tenant.organization, display_name="Kept", email="")
    customer.display_name, customer.email = "Not written", "written@example.com"

    with mock.patch("django.utils.timezone.now", return_value=NOW):
        saves.update(customer, ["email", "updated_at"])

    assert customer.updated_at == NOW
    row = stored(customer)
    assert (row["display_name"], row["email"], row["updated_at"]) == (
        "Kept",
        "written@example.com",
        NOW,
    )


def test_update_of_shapes_alternating_with_nulls_writes_each_right(tenant):
    customer = CustomerFactory(organization=tenant.organization)
    for code, at in [("A", None), (None, NOW), ("B", NOW), (None, None)]:
        customer.code, customer.opening_balance_at = code, at
        saves.update(customer, ["code", "opening_balance_at"])
        assert (stored(customer)["code"], stored(customer)["opening_balance_at"]) == (code, at)


def test_update_refuses_what_model_save_refuses(tenant):
    customer = CustomerFactory(organization=tenant.organization)
    with pytest.raises(ValueError, match="no_such_field"):
        saves.update(customer, ["display_name", "no_such_field"])
    with pytest.raises(ValueError, match="id"):
        saves.update(customer, ["id"])

    Customer.objects.filter(pk=customer.pk).delete()
    with pytest.raises(DatabaseError, match="did not affect any rows"):
        saves.update(customer, ["display_name"])
    assert statements(lambda: saves.update(customer, [])) == []


def change(tenant) -> CustomerChange:
    return CustomerChange(
        organization_id=tenant.organization.pk,
        customer_id=tenant.customer.pk,
        customer_display_name="Name",
        action=CustomerChange.Action.UPDATE,
        door=Door.API,
        actor_user=tenant.owner,
        changes={"displayName": ["Old", "Name"], "balance": [1500, 900.5]},
    )


def test_insert_sends_the_statement_model_save_sends_and_reads_the_id_back(tenant):
    by_django_row, by_saves_row = change(tenant), change(tenant)

    with mock.patch("django.utils.timezone.now", return_value=NOW):
        by_django = statements(lambda: by_django_row.save(force_insert=True))
        by_saves = statements(lambda: saves.insert(by_saves_row))

    assert by_saves == by_django
    assert len(by_saves) == 1
    assert by_saves_row.pk == by_django_row.pk + 1
    assert (by_saves_row._state.adding, by_saves_row._state.db) == (False, "default")
    assert by_saves_row.created_at == NOW
    row = CustomerChange.objects.get(pk=by_saves_row.pk)
    for field in CustomerChange._meta.concrete_fields:
        if field.name != "id":
            assert getattr(row, field.attname) == getattr(by_django_row, field.attname)


def test_a_customer_inserted_has_its_id_and_both_timestamps(tenant):
    customer = Customer(
        organization=tenant.organization,
        customer_type="business",
        display_name="New",
        currency_code="EUR",
    )

    with mock.patch("django.utils.timezone.now", return_value=NOW):
        saves.insert(customer)

    assert customer.pk is not None
    assert stored(customer) == {
        field.attname: getattr(customer, field.attname) for field in Customer._meta.concrete_fields
    }
    assert (customer.created_at, customer.updated_at) == (NOW, NOW)


@pytest.mark.parametrize("signal", [pre_save, post_save])
def test_model_save_itself_runs_when_someone_listens_to_its_signals(tenant, signal):
    heard = []

    def listener(sender, instance, **kwargs):
        heard.append((sender, kwargs.get("update_fields")))

    signal.connect(listener, sender=Customer)
    try:
        customer = Customer.objects.get(pk=tenant.customer.pk)
        customer.display_name = "Heard"
        saves.update(customer, ["display_name"])
        saves.insert(
            Customer(
                organization=tenant.organization,
                customer_type="business",
                display_name="Also heard",
                currency_code="EUR",
            )
        )
    finally:
        signal.disconnect(listener, sender=Customer)

    assert heard == [(Customer, frozenset({"display_name"})), (Customer, None)]
    assert stored(customer)["display_name"] == "Heard"
