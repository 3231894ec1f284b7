"""POST /api/customers/{id}/merge and /unmerge (contract section 11), what they answer and what
the database holds after them."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core import serializers
from django.utils import timezone

from common.actors import Actor, Door
from customers import services
from customers.models import Customer, CustomerChange, CustomerMerge, CustomerSignal

from ..factories import customer_created as make

pytestmark = pytest.mark.django_db

URL = "/api/customers"
ACTOR = Actor(door=Door.COMMAND)
AT = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def pair(tenant):
    """Two customers of one company, each with a little history and a balance."""
    source = make(
        tenant,
        "ACME Corporation",
        email="billing@acme.test",
        work_phone="+1 415 555 0100",
        code="ACME-2",
        opening_balance=Decimal("100.500"),
        opening_balance_at=AT,
    )
    target = make(tenant, "Acme Corp.", code="ACME-1", note="Key account")
    services.customer_update(
        organization=tenant.organization,
        customer_id=source.pk,
        changes={"website": "https://acme.test"},
        actor=ACTOR,
    )
    Customer.objects.filter(pk=source.pk).update(balance=Decimal("250.500"))  # an invoice
    return Customer.objects.get(pk=source.pk), Customer.objects.get(pk=target.pk)


def rows(*ids) -> list[dict]:
    """The customers' rows as stored, every column."""
    return [
        serializers.serialize("python", Customer.objects.filter(pk=pk))[0]["fields"] | {"id": pk}
        for pk in ids
    ]


def history_owners(tenant) -> dict[int, int]:
    return dict(
        CustomerChange.objects.filter(organization=tenant.organization).values_list(
            "pk", "customer_id"
        )
    )


def merge(client, source, target, **body):
    return client.post(f"{URL}/{source.pk}/merge", {"into": target.pk, **body}, format="json")


def test_merge_keeps_chosen_values_adds_balances_and_tombstones_the_source(
    tenant, key_client, pair
):
    source, target = pair
    source_history = set(
        CustomerChange.objects.filter(customer_id=source.pk).values_list("pk", flat=True)
    )

    response = merge(key_client, source, target, fields={"code": "source", "note": "into"})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["id"] == target.pk
    assert response["ETag"] == f'"{target.version + 1}"'
    survivor = Customer.objects.get(pk=target.pk)
    assert (survivor.code, survivor.note, survivor.display_name) == (
        "ACME-2",
        "Key account",
        "Acme Corp.",
    )
    assert survivor.email == "billing@acme.test"  # empty on the survivor: taken from the source
    assert (survivor.balance, survivor.opening_balance) == (Decimal("250.500"), Decimal("100.500"))
    assert survivor.opening_balance_at == AT
    assert not Customer.objects.filter(pk=source.pk).exists()
    moved = set(CustomerChange.objects.filter(customer_id=target.pk).values_list("pk", flat=True))
    assert source_history <= moved
    history = key_client.get(f"{URL}/{target.pk}/history").json()["history"]
    assert history[0]["action"] == "merge"
    assert history[0]["changes"]["mergedFrom"] == {"old": None, "new": source.pk}
    assert not CustomerSignal.objects.filter(customer_id=source.pk).exists()
    assert ("phone", "+14155550100") in set(
        CustomerSignal.objects.filter(customer_id=target.pk).values_list("kind", "value")
    )


def test_a_merged_customer_answers_404_customer_merged_with_merged_into(tenant, key_client, pair):
    source, target = pair
    merge(key_client, source, target)

    for response in (
        key_client.get(f"{URL}/{source.pk}"),
        key_client.patch(f"{URL}/{source.pk}", {"note": "x"}, format="json"),
        merge(key_client, source, target),
    ):
        assert response.status_code == 404
        [error] = response.json()["errors"]
        assert (error["type"], error["mergedInto"]) == ("CUSTOMER_MERGED", target.pk)


def test_a_merged_customer_is_in_no_list_or_search(tenant, key_client, pair):
    source, target = pair
    merge(key_client, source, target)

    listed = key_client.get(URL, {"pageSize": 100}).json()["customers"]
    searched = key_client.get(URL, {"searchKeyword": "ACME"}).json()["customers"]

    assert source.pk not in {c["id"] for c in listed}
    assert [c["id"] for c in searched] == [target.pk]


def test_merge_then_unmerge_restores_both_customers_and_their_histories(tenant, key_client, pair):
    source, target = pair
    before = rows(source.pk, target.pk)
    owners = history_owners(tenant)

    assert merge(key_client, source, target, fields={"code": "source"}).status_code == 200
    response = key_client.post(f"{URL}/{source.pk}/unmerge")

    assert response.status_code == 200, response.json()
    assert response.json()["id"] == source.pk
    after = rows(source.pk, target.pk)
    for old, new, writes in zip(before, after, (1, 2), strict=True):
        changed = {k for k in old if old[k] != new[k]}
        assert changed == {"version", "updated_at"}
        # ETags only move forward: the source came back once, the survivor was written twice.
        assert new["version"] == old["version"] + writes
    restored = history_owners(tenant)
    assert {pk: restored[pk] for pk in owners} == owners
    new_rows = CustomerChange.objects.exclude(pk__in=owners).order_by("pk")
    assert [(c.customer_id, c.action) for c in new_rows] == [
        (source.pk, "merge"),
        (target.pk, "merge"),
        (source.pk, "unmerge"),
        (target.pk, "unmerge"),
    ]
    assert key_client.get(f"{URL}/{source.pk}").status_code == 200
    assert CustomerMerge.objects.get().undone_at is not None
    assert ("email", "billing@acme.test") in set(
        CustomerSignal.objects.filter(customer_id=source.pk).values_list("kind", "value")
    )
    assert not CustomerSignal.objects.filter(customer_id=target.pk, kind="email").exists()


def test_unmerge_keeps_later_changes_to_fields_the_merge_did_not_write(tenant, key_client, pair):
    source, target = pair
    merge(key_client, source, target)
    key_client.patch(f"{URL}/{target.pk}", {"billingAddressCity": "Oakland"}, format="json")

    response = key_client.post(f"{URL}/{source.pk}/unmerge")

    assert response.status_code == 200
    assert Customer.objects.get(pk=target.pk).billing_address_city == "Oakland"


def test_unmerge_after_the_survivor_changed_a_merged_field_is_409_naming_it(
    tenant, key_client, pair
):
    source, target = pair
    merge(key_client, source, target)
    key_client.patch(f"{URL}/{target.pk}", {"email": "ap@acme.test"}, format="json")
    survivor = rows(target.pk)

    response = key_client.post(f"{URL}/{source.pk}/unmerge")

    assert response.status_code == 409
    [error] = response.json()["errors"]
    assert (error["type"], error["fields"]) == ("MERGE_AMBIGUOUS", ["email"])
    assert "email" in error["message"]
    assert rows(target.pk) == survivor
    assert not Customer.objects.filter(pk=source.pk).exists()


def test_unmerge_after_30_days_is_409(tenant, key_client, pair):
    source, target = pair
    merge(key_client, source, target)
    CustomerMerge.objects.update(merged_at=timezone.now() - timedelta(days=31))

    response = key_client.post(f"{URL}/{source.pk}/unmerge")

    assert response.status_code == 409
    assert response.json()["errors"][0]["type"] == "UNMERGE_EXPIRED"


def test_unmerge_of_a_customer_never_merged_is_400(tenant, key_client, pair):
    source, _ = pair

    response = key_client.post(f"{URL}/{source.pk}/unmerge")

    assert response.status_code == 400
    assert response.json()["errors"][0]["type"] == "CUSTOMER_NOT_MERGED"


def _refused(tenant, key_client, response, status, error_type):
    assert response.status_code == status, response.json()
    assert response.json()["errors"][0]["type"] == error_type
    assert not CustomerMerge.objects.exists()
    assert not CustomerChange.objects.filter(action="merge").exists()


def test_merge_into_itself_is_400_and_writes_nothing(tenant, key_client, pair):
    source, _ = pair
    before = rows(source.pk)

    response = merge(key_client, source, source)

    _refused(tenant, key_client, response, 400, "MERGE_INTO_SELF")
    assert rows(source.pk) == before


def test_merge_across_organizations_is_a_clear_4xx_that_writes_nothing(
    tenant, other_tenant, key_client, pair
):
    source, target = pair
    theirs = make(other_tenant, "Acme Corp.")
    before = rows(source.pk, target.pk, theirs.pk)

    into_theirs = merge(key_client, source, theirs)
    theirs_into_ours = key_client.post(
        f"{URL}/{theirs.pk}/merge", {"into": target.pk}, format="json"
    )

    _refused(tenant, key_client, into_theirs, 400, "CUSTOMER_NOT_FOUND")
    assert into_theirs.json()["errors"][0]["field"] == "into"
    _refused(tenant, key_client, theirs_into_ours, 404, "CUSTOMER_NOT_FOUND")
    assert rows(source.pk, target.pk, theirs.pk) == before


def test_merge_into_a_merged_customer_is_400_naming_where_it_went(tenant, key_client, pair):
    source, target = pair
    third = make(tenant, "Acme")
    merge(key_client, target, third)

    response = merge(key_client, source, target)

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["type"], error["field"], error["mergedInto"]) == (
        "CUSTOMER_MERGED",
        "into",
        third.pk,
    )
    assert Customer.objects.filter(pk=source.pk).exists()


def test_merge_of_customers_in_two_currencies_is_400_and_writes_nothing(tenant, key_client, pair):
    source, _ = pair
    euro = make(tenant, "Acme GmbH", currency_code="EUR")
    before = rows(source.pk, euro.pk)

    response = merge(key_client, source, euro)

    _refused(tenant, key_client, response, 400, "MERGE_CURRENCY_MISMATCH")
    assert "USD" in response.json()["errors"][0]["message"]
    assert rows(source.pk, euro.pk) == before


def test_merge_with_a_stale_if_match_on_either_side_is_412_and_writes_nothing(
    tenant, key_client, pair
):
    source, target = pair
    stale_source = key_client.post(
        f"{URL}/{source.pk}/merge",
        {"into": target.pk},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    stale_target = merge(key_client, source, target, intoIfMatch='"99"')
    fresh = key_client.post(
        f"{URL}/{source.pk}/merge",
        {"into": target.pk, "intoIfMatch": target.etag},
        format="json",
        HTTP_IF_MATCH=source.etag,
    )

    assert stale_source.status_code == 412
    assert stale_target.status_code == 412
    assert fresh.status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "into"),
        ({"into": "x"}, "into"),
        ({"into": 1, "fields": {"balance": "source"}}, "fields.balance"),
        ({"into": 1, "fields": {"email": "both"}}, "fields.email"),
        ({"into": 1, "other": 1}, "other"),
    ],
)
def test_a_bad_merge_body_is_400_naming_the_field(tenant, key_client, pair, body, field):
    source, _ = pair

    response = key_client.post(f"{URL}/{source.pk}/merge", body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field
    assert not CustomerMerge.objects.exists()


def test_merge_events_are_in_the_feed(tenant, key_client, pair):
    source, target = pair
    merge(key_client, source, target)

    events = key_client.get("/api/events", {"types": "customer.merged"}).json()

    assert events["events"][0]["type"] == "customer.merged"


@pytest.mark.parametrize("sign", [1, -1])
def test_merge_whose_money_adds_up_past_an_amount_is_400_and_writes_nothing(
    tenant, key_client, sign
):
    largest = sign * Decimal("9999999999.999")
    source = make(tenant, "Big One", opening_balance=largest, opening_balance_at=AT)
    target = make(tenant, "Big Two", opening_balance=largest, opening_balance_at=AT)
    before = rows(source.pk, target.pk)

    response = merge(key_client, source, target)

    _refused(tenant, key_client, response, 400, "MERGE_AMOUNT_TOO_LARGE")
    assert "add up to more than an amount can hold" in response.json()["errors"][0]["message"]
    assert rows(source.pk, target.pk) == before
    assert not CustomerMerge.objects.exists()
