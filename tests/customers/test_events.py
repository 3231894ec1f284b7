"""Every change is an event, written with it, and `GET /api/events` serves them in order."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from customers import events
from customers.models import Customer, CustomerChange, EventCounter

from ..admin.conftest import make_staff
from ..admin.forms import change_form_data
from ..factories import CustomerFactory

pytestmark = pytest.mark.django_db

NEW = {"customerType": "business", "displayName": "Evented", "currencyCode": "USD"}


def feed(client, **params):
    response = client.get("/api/events", params)
    assert response.status_code == 200, response.content
    return response.json()


def all_events(client, **params) -> list[dict]:
    return feed(client, limit=1000, **params)["events"]


def test_each_api_change_is_an_event_with_the_customer_as_the_api_answered(tenant, key_client):
    created = key_client.post("/api/customers", NEW, format="json").json()
    url = f"/api/customers/{created['id']}"
    edited = key_client.patch(url, {"email": "ops@evented.example"}, format="json").json()
    balanced = key_client.put(
        f"{url}/opening-balance",
        {"openingBalance": 250, "openingBalanceAt": "2026-01-01"},
        format="json",
    ).json()
    inactive = key_client.post(f"{url}/inactivate").json()
    active = key_client.post(f"{url}/activate").json()
    key_client.delete(url)

    got = all_events(key_client)

    assert [event["type"] for event in got] == [
        "customer.created",
        "customer.edited",
        "customer.opening_balance_changed",
        "customer.inactivated",
        "customer.activated",
        "customer.deleted",
    ]
    assert [event["position"] for event in got] == [1, 2, 3, 4, 5, 6]
    assert [event["customer"] for event in got] == [
        created,
        edited,
        balanced,
        inactive,
        active,
        active,  # a deletion carries the customer as it was last
    ]
    assert got[1]["changes"] == {"email": {"old": "", "new": "ops@evented.example"}}
    assert got[1]["door"] == "api"
    assert got[1]["actor"]["apiKeyId"] == tenant.api_key.pk
    assert {event["customerId"] for event in got} == {created["id"]}
    assert got[0]["id"] == CustomerChange.objects.get(action="create", customer_id=created["id"]).pk


def test_a_refused_write_writes_no_event_and_takes_no_position(tenant, key_client):
    CustomerFactory(organization=tenant.organization, code="TAKEN")
    before = events.last_position(tenant.organization.pk)

    refused = key_client.patch(
        f"/api/customers/{tenant.customer.pk}", {"code": "TAKEN"}, format="json"
    )

    assert refused.status_code == 400
    assert not CustomerChange.objects.filter(customer_id=tenant.customer.pk, action="update")
    assert events.last_position(tenant.organization.pk) == before
    key_client.patch(f"/api/customers/{tenant.customer.pk}", {"code": "FREE"}, format="json")
    assert [e["position"] for e in all_events(key_client, types="customer.edited")] == [before + 1]


def test_a_bulk_delete_writes_one_event_per_customer(tenant, key_client):
    doomed = CustomerFactory.create_batch(3, organization=tenant.organization)

    key_client.post("/api/customers/bulk-delete", {"ids": [c.pk for c in doomed]}, format="json")

    deleted = all_events(key_client, types="customer.deleted")
    assert [event["customerId"] for event in deleted] == [c.pk for c in doomed]
    assert [event["customer"]["displayName"] for event in deleted] == [
        c.display_name for c in doomed
    ]


def test_an_admin_edit_writes_its_event(tenant, key_client):
    browser = Client()
    browser.force_login(make_staff(tenant.owner))
    customer = tenant.customer
    url = reverse("admin:customers_customer_change", args=[customer.pk])

    browser.post(url, change_form_data(customer, billing_address_city="Lyon"))

    [event] = all_events(key_client, types="customer.edited")
    assert (event["door"], event["actor"]["userId"]) == ("admin", tenant.owner.pk)
    assert event["customer"]["billingAddressCity"] == "Lyon"
    assert event["customer"] == key_client.get(f"/api/customers/{customer.pk}").json()


def import_file(tenant, body: str, *extra) -> str:
    out = io.StringIO()
    path = tenant.tmp / "customers.csv"
    path.write_text(body)
    try:
        call_command(
            "import_customers",
            str(path),
            "--organization",
            tenant.organization.pk,
            *extra,
            stdout=out,
            stderr=out,
        )
    except CommandError as error:  # a refused file: the tests look at what was written
        out.write(str(error))
    return out.getvalue()


@pytest.fixture
def file_tenant(tenant, tmp_path):
    tenant.tmp = tmp_path
    return tenant


def test_an_import_writes_one_event_per_customer_with_its_snapshot(file_tenant, key_client):
    import_file(
        file_tenant,
        "customerType,displayName,code,currencyCode\n"
        "business,Imported A,IMP-A,USD\nindividual,Imported B,IMP-B,EUR\n",
    )

    created = all_events(key_client, types="customer.created")

    assert [event["customer"]["code"] for event in created] == ["IMP-A", "IMP-B"]
    assert [event["door"] for event in created] == ["import", "import"]
    for event in created:
        answer = key_client.get(f"/api/customers/{event['customerId']}").json()
        assert event["customer"] == answer
    assert not CustomerChange.objects.filter(position__isnull=True).exists()


@pytest.mark.parametrize("extra", [("--dry-run",), ()])
def test_an_import_that_writes_nothing_writes_no_event(file_tenant, key_client, extra):
    before = events.last_position(file_tenant.organization.pk)
    body = "customerType,displayName,code,currencyCode\nbusiness,Fine,OK-1,USD\n"
    if not extra:
        body += "business,,BAD,USD\n"  # a failed row: all or nothing

    import_file(file_tenant, body, *extra)

    assert all_events(key_client, types="customer.created") == []
    assert events.last_position(file_tenant.organization.pk) == before
    assert not Customer.objects.filter(code="OK-1").exists()


def test_the_feed_pages_by_cursor_and_filters_by_type(tenant, key_client):
    for number in range(5):
        key_client.patch(
            f"/api/customers/{tenant.customer.pk}", {"note": f"note {number}"}, format="json"
        )
    key_client.post(f"/api/customers/{tenant.customer.pk}/inactivate")

    first = feed(key_client, limit=2)
    second = feed(key_client, limit=2, after=first["nextCursor"])
    rest = feed(key_client, limit=10, after=second["nextCursor"])

    assert [e["position"] for e in first["events"]] == [1, 2]
    assert first["hasMore"] is True
    assert [e["position"] for e in second["events"]] == [3, 4]
    assert [e["position"] for e in rest["events"]] == [5, 6]
    assert (rest["hasMore"], rest["nextCursor"]) == (False, "6")
    assert feed(key_client, after=6) == {"events": [], "nextCursor": "6", "hasMore": False}
    only = feed(key_client, types="customer.inactivated")
    assert [e["position"] for e in only["events"]] == [6]
    # No event of the asked types after 6: the cursor still moves past what was read.
    assert feed(key_client, types="customer.created", after=2)["nextCursor"] == "6"


def test_each_organization_reads_only_its_own_feed(tenant, other_tenant, key_client):
    CustomerFactory(organization=other_tenant.organization)  # factories write no history
    theirs = Client()
    other_key = {"HTTP_AUTHORIZATION": f"Bearer {other_tenant.key}"}
    theirs.patch(
        f"/api/customers/{other_tenant.customer.pk}",
        {"note": "theirs"},
        content_type="application/json",
        **other_key,
    )
    key_client.patch(f"/api/customers/{tenant.customer.pk}", {"note": "mine"}, format="json")

    mine = all_events(key_client)

    assert [e["customerId"] for e in mine] == [tenant.customer.pk]
    assert mine[0]["position"] == 1  # each organization counts its own


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"types": "customer.created,customer.renamed"}, "types"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"after": "-1"}, "after"),
        ({"after": "abc"}, "after"),
        ({"after": "99"}, "after"),  # no such position yet
        ({"since": "1"}, "since"),
    ],
)
def test_bad_feed_parameters_are_a_400_naming_them(key_client, params, field):
    response = key_client.get("/api/events", params)

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field


def test_a_cursor_older_than_the_retention_is_410(tenant, key_client, settings):
    for note in ("old", "older", "new"):
        key_client.patch(f"/api/customers/{tenant.customer.pk}", {"note": note}, format="json")
    long_ago = timezone.now() - timedelta(days=settings.EVENT_RETENTION_DAYS + 1)
    CustomerChange.objects.filter(position__in=[1, 2]).update(created_at=long_ago)

    expired = key_client.get("/api/events", {"after": 0})
    just_in_time = feed(key_client, after=2)
    from_the_start = feed(key_client)

    assert expired.status_code == 410
    assert expired.json()["errors"][0]["type"] == "CURSOR_EXPIRED"
    assert [e["position"] for e in just_in_time["events"]] == [3]
    assert [e["position"] for e in from_the_start["events"]] == [3]


def test_purge_drops_the_snapshots_of_expired_events_and_keeps_the_history(tenant, key_client):
    key_client.patch(f"/api/customers/{tenant.customer.pk}", {"note": "old"}, format="json")
    CustomerChange.objects.update(created_at=timezone.now() - timedelta(days=365))

    call_command("purge_expired", stdout=io.StringIO())

    change = CustomerChange.objects.get(customer_id=tenant.customer.pk, action="update")
    assert (change.snapshot, change.changes["note"][1]) == (None, "old")
    assert key_client.get("/api/events", {"after": 0}).status_code == 410


def test_the_counter_holds_the_last_position(tenant, key_client):
    key_client.patch(f"/api/customers/{tenant.customer.pk}", {"note": "x"}, format="json")

    assert EventCounter.objects.get(organization=tenant.organization).last == 1
