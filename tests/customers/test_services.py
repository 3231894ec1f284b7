"""customers/services.py: the rules every door shares, without HTTP."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from common.actors import Actor, Door
from common.errors import ApplicationError
from common.http import IfMatch
from customers import services
from customers.models import CODE_TAKEN, Customer, CustomerChange
from tests.factories import CustomerFactory, seed_customer

pytestmark = pytest.mark.django_db

AT = datetime(2024, 1, 1, tzinfo=UTC)


def actor(tenant, door=Door.COMMAND) -> Actor:
    return Actor(door=door, user=tenant.owner)


def test_opening_balance_moves_the_balance_by_the_difference(tenant):
    customer = seed_customer(tenant.organization, tenant.branch)  # opening 1000, balance 1500

    services.customer_set_opening_balance(
        organization=tenant.organization,
        customer_id=customer.pk,
        amount=Decimal("400.5"),
        actor=actor(tenant),
    )

    customer.refresh_from_db()
    assert customer.opening_balance == Decimal("400.5")
    assert customer.balance == Decimal("900.5")
    change = CustomerChange.objects.get(customer_id=customer.pk)
    assert change.changes["balance"] == [1500, 900.5]


def test_activate_twice_is_contact_already_active(tenant):
    customer = CustomerFactory(organization=tenant.organization, active=False)
    services.customer_activate(
        organization=tenant.organization, customer_id=customer.pk, actor=actor(tenant)
    )

    with pytest.raises(ApplicationError) as error:
        services.customer_activate(
            organization=tenant.organization, customer_id=customer.pk, actor=actor(tenant)
        )

    assert (error.value.status_code, error.value.error_type) == (400, "CONTACT_ALREADY_ACTIVE")
    assert CustomerChange.objects.filter(customer_id=customer.pk).count() == 1


def test_delete_keeps_the_history(tenant):
    customer = tenant.customer
    services.customer_update(
        organization=tenant.organization,
        customer_id=customer.pk,
        changes={"note": "x"},
        actor=actor(tenant),
    )

    services.customer_delete(
        organization=tenant.organization, customer_id=customer.pk, actor=actor(tenant)
    )

    assert not Customer.objects.filter(pk=customer.pk).exists()
    assert list(
        CustomerChange.objects.filter(customer_id=customer.pk).values_list("action", flat=True)
    ) == ["delete", "update"]


@pytest.mark.parametrize(
    "write",
    [
        lambda t, m: services.customer_update(
            organization=t.organization,
            customer_id=t.customer.pk,
            changes={"note": "x"},
            actor=actor(t),
            if_match=m,
        ),
        lambda t, m: services.customer_inactivate(
            organization=t.organization, customer_id=t.customer.pk, actor=actor(t), if_match=m
        ),
        lambda t, m: services.customer_delete(
            organization=t.organization, customer_id=t.customer.pk, actor=actor(t), if_match=m
        ),
        lambda t, m: services.customer_set_opening_balance(
            organization=t.organization,
            customer_id=t.customer.pk,
            amount=Decimal(5),
            at=AT,
            actor=actor(t),
            if_match=m,
        ),
    ],
)
def test_a_stale_if_match_is_412_and_writes_nothing(tenant, write):
    with pytest.raises(ApplicationError) as error:
        write(tenant, IfMatch.parse('"7"'))

    assert error.value.status_code == 412
    customer = Customer.objects.get(pk=tenant.customer.pk)
    assert (customer.version, customer.note, customer.active) == (1, "", True)
    assert customer.opening_balance == 0
    assert not CustomerChange.objects.exists()


@pytest.mark.parametrize("door", list(Door))
def test_each_door_is_recorded_in_the_history_row(tenant, door):
    customer = services.customer_create(
        organization=tenant.organization,
        data={"customer_type": "business", "display_name": "By door", "currency_code": "USD"},
        actor=actor(tenant, door),
    )
    services.customer_inactivate(
        organization=tenant.organization, customer_id=customer.pk, actor=actor(tenant, door)
    )

    rows = CustomerChange.objects.filter(customer_id=customer.pk)
    assert [(row.action, row.door, row.actor_user) for row in rows] == [
        ("inactivate", door.value, tenant.owner),
        ("create", door.value, tenant.owner),
    ]


def test_an_api_key_actor_is_recorded_with_its_key(tenant):
    key_actor = Actor(door=Door.API, user=tenant.owner, api_key=tenant.api_key)

    services.customer_inactivate(
        organization=tenant.organization, customer_id=tenant.customer.pk, actor=key_actor
    )

    assert CustomerChange.objects.get().actor_api_key == tenant.api_key


def test_bulk_delete_check_counts_missing_and_busy_as_not_deletable(tenant, other_tenant):
    busy = seed_customer(tenant.organization, tenant.branch)
    ids = [tenant.customer.pk, busy.pk, other_tenant.customer.pk]

    check = services.customer_bulk_delete_check(organization=tenant.organization, ids=ids)

    assert check.deletable_ids == [tenant.customer.pk]
    assert check.non_deletable_ids == [busy.pk, other_tenant.customer.pk]


def test_bulk_delete_refuses_all_when_one_has_transactions(tenant):
    busy = seed_customer(tenant.organization, tenant.branch)

    with pytest.raises(ApplicationError) as error:
        services.customer_bulk_delete(
            organization=tenant.organization, ids=[tenant.customer.pk, busy.pk], actor=actor(tenant)
        )

    assert error.value.error_type == "CUSTOMER_HAS_TRANSACTIONS"
    assert Customer.objects.filter(organization=tenant.organization).count() == 2
    assert not CustomerChange.objects.exists()


def test_bulk_delete_records_one_history_row_per_deleted_customer(tenant):
    more = CustomerFactory(organization=tenant.organization)

    deleted = services.customer_bulk_delete(
        organization=tenant.organization, ids=[more.pk, tenant.customer.pk], actor=actor(tenant)
    )

    assert deleted == [more.pk, tenant.customer.pk]
    assert not Customer.objects.filter(organization=tenant.organization).exists()
    assert sorted(CustomerChange.objects.values_list("customer_id", "action", "door")) == sorted(
        [(more.pk, "delete", "command"), (tenant.customer.pk, "delete", "command")]
    )


def test_model_validation_reports_a_taken_code_on_the_code_in_the_apis_words(tenant, other_tenant):
    Customer.objects.filter(pk=tenant.customer.pk).update(code="C-7")
    other = Customer.objects.get(pk=other_tenant.customer.pk)
    duplicate = Customer(
        organization=tenant.organization,
        customer_type="business",
        display_name="Second",
        currency_code="USD",
        code="C-7",
    )

    with pytest.raises(ValidationError) as refused:
        duplicate.validate_constraints()
    assert refused.value.message_dict == {"code": [CODE_TAKEN]}
    other.code = "C-7"
    other.validate_constraints()  # the same code in another organization is fine
