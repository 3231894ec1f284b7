"""common/saves.py writes what Model.save writes, with the same SQL, or lets Model.save do it."""

from datetime import UTC, datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
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


def history_row(customer: Customer, note: str) -> CustomerChange:
    return CustomerChange(
        organization_id=customer.organization_id,
        customer_id=customer.pk,
        customer_display_name=customer.display_name,
        action=CustomerChange.Action.UPDATE,
        door=Door.API,
        changes={"note": ["", note]},
    )


def edit_if_unchanged(
    customer: Customer, note: str, read_version: int
) -> tuple[bool, CustomerChange]:
    customer.note, customer.version = note, read_version + 1
    record = history_row(customer, note)
    written = saves.update_if(
        customer, ["note", "version"], unchanged={"version": read_version}, then_insert=record
    )
    return written, record


def test_update_if_writes_the_row_and_its_record_when_the_version_is_the_one_read(tenant):
    customer = Customer.objects.get(pk=tenant.customer.pk)

    written, record = edit_if_unchanged(customer, "first", read_version=customer.version)

    assert written
    assert (stored(customer)["note"], stored(customer)["version"]) == ("first", 2)
    assert record.pk is not None
    assert not record._state.adding
    assert CustomerChange.objects.get(pk=record.pk).changes == {"note": ["", "first"]}


def test_update_if_writes_neither_when_the_row_changed_since_it_was_read(tenant):
    customer = Customer.objects.get(pk=tenant.customer.pk)
    Customer.objects.filter(pk=customer.pk).update(version=5, note="by someone else")

    written, record = edit_if_unchanged(customer, "lost", read_version=1)

    assert not written
    assert record.pk is None
    assert (stored(customer)["note"], stored(customer)["version"]) == ("by someone else", 5)
    assert not CustomerChange.objects.filter(customer_id=customer.pk).exists()


def test_update_if_writes_neither_when_the_row_is_gone(tenant):
    customer = Customer.objects.get(pk=tenant.customer.pk)
    Customer.objects.filter(pk=customer.pk).delete()

    written, _ = edit_if_unchanged(customer, "nobody", read_version=1)

    assert not written
    assert not CustomerChange.objects.filter(customer_id=customer.pk).exists()


def test_update_if_refused_by_a_constraint_writes_neither(tenant):
    CustomerFactory(organization=tenant.organization, code="TAKEN")
    customer = Customer.objects.get(pk=tenant.customer.pk)
    customer.code = "TAKEN"

    with pytest.raises(IntegrityError), transaction.atomic():
        saves.update_if(
            customer,
            ["code"],
            unchanged={"version": 1},
            then_insert=history_row(customer, "clash"),
        )

    assert stored(customer)["code"] is None
    assert not CustomerChange.objects.filter(customer_id=customer.pk).exists()


@pytest.mark.postgres_only
def test_update_if_is_one_statement_on_postgresql(tenant):
    customer = Customer.objects.get(pk=tenant.customer.pk)

    sent = statements(lambda: edit_if_unchanged(customer, "once", read_version=1))

    assert len(sent) == 1
    assert sent[0].startswith('WITH updated AS (UPDATE "customers_customer" SET "note" = ')
    assert stored(customer)["note"] == "once"


@pytest.mark.postgres_only
def test_update_if_returning_a_type_not_read_in_binary_takes_two_statements(tenant):
    # The one statement runs on the kept cursor, which reads results in binary; an INSERT whose
    # returned columns Django loads from text (jsonb, inet, cidr) must not run there.
    customer = Customer.objects.get(pk=tenant.customer.pk)
    with (
        mock.patch.object(saves.statements, "TEXT_LOADED_TYPES", frozenset({"bigint"})),
        mock.patch.dict(saves._INSERTS, clear=True),
    ):
        sent = statements(lambda: edit_if_unchanged(customer, "twice", read_version=1))

    assert [sql.split()[0] for sql in sent] == ["UPDATE", "INSERT"]
    assert stored(customer)["note"] == "twice"
    assert CustomerChange.objects.get(customer_id=customer.pk).changes == {"note": ["", "twice"]}


def test_update_if_with_a_signal_listener_still_checks_the_version(tenant):
    heard = []

    def listener(sender, instance, **kwargs):
        heard.append(instance.note)

    pre_save.connect(listener, sender=Customer)
    try:
        customer = Customer.objects.get(pk=tenant.customer.pk)
        Customer.objects.filter(pk=customer.pk).update(version=3)
        stale, _ = edit_if_unchanged(customer, "stale", read_version=1)
        fresh, _ = edit_if_unchanged(customer, "fresh", read_version=3)
    finally:
        pre_save.disconnect(listener, sender=Customer)

    assert (stale, fresh) == (False, True)
    assert heard == ["fresh"]  # Model.save ran, for the write that happened only
    assert (stored(customer)["note"], stored(customer)["version"]) == ("fresh", 4)
    assert CustomerChange.objects.filter(customer_id=customer.pk).count() == 1
