"""Two organizations: no customer route shows, counts or touches the other organization's rows."""

import pytest

from customers.models import Customer, CustomerChange, CustomerIdempotencyKey
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

BODY = {"customerType": "business", "displayName": "Hijacked"}
# Every route that names one customer: method, path after /api/, body.
ONE_CUSTOMER_ROUTES = [
    ("get", "customers/{id}", None),
    ("put", "customers/{id}", BODY),
    ("patch", "customers/{id}/", BODY),
    ("delete", "customers/{id}", None),
    (
        "put",
        "customers/{id}/opening-balance",
        {"openingBalance": 9, "openingBalanceAt": "2024-01-01"},
    ),
    ("post", "customers/{id}/activate", None),
    ("patch", "customers/{id}/activate", None),
    ("post", "customers/{id}/inactivate", None),
    ("patch", "customers/{id}/inactivate/", None),
    ("patch", "contacts/{id}/activate", None),
    ("patch", "contacts/{id}/inactivate", None),
    ("get", "customers/{id}/history", None),
]


def snapshot(organization):
    return (
        list(Customer.objects.filter(organization=organization).values().order_by("id")),
        CustomerChange.objects.filter(organization=organization).count(),
    )


@pytest.fixture
def theirs(other_tenant):
    Customer.objects.filter(pk=other_tenant.customer.pk).update(active=False)
    CustomerChange.objects.create(
        organization=other_tenant.organization,
        customer_id=other_tenant.customer.pk,
        customer_display_name="x",
        action="update",
        door="api",
    )
    return other_tenant


@pytest.mark.parametrize(("method", "path", "body"), ONE_CUSTOMER_ROUTES)
def test_another_organizations_customer_is_404_and_untouched(
    tenant, theirs, key_client, method, path, body
):
    before = snapshot(theirs.organization)

    response = getattr(key_client, method)(
        "/api/" + path.format(id=theirs.customer.pk), body, format="json"
    )

    assert response.status_code == 404
    assert response.json()["errors"][0]["type"] == "CUSTOMER_NOT_FOUND"
    assert snapshot(theirs.organization) == before


def test_list_and_search_never_show_or_count_the_other_organization(tenant, theirs, key_client):
    CustomerFactory(organization=theirs.organization, display_name="Shared name")
    CustomerFactory(organization=tenant.organization, display_name="Shared name")

    listed = key_client.get("/api/customers?pageSize=500").json()
    searched = key_client.get("/api/customers?searchKeyword=shared").json()
    inactive = key_client.get("/api/customers?inactiveMode=true").json()

    assert {c["id"] for c in listed["customers"]} == set(
        Customer.objects.filter(organization=tenant.organization).values_list("id", flat=True)
    )
    assert listed["pagination"]["total"] == 2
    assert searched["pagination"]["total"] == 1
    assert inactive["customers"] == []
    assert inactive["pagination"]["total"] == 0


def test_bulk_routes_never_count_or_touch_the_other_organization(tenant, theirs, key_client):
    before = snapshot(theirs.organization)
    ids = [theirs.customer.pk, tenant.customer.pk]

    checked = key_client.post("/api/customers/validate-bulk-delete", {"ids": ids}, format="json")
    refused = key_client.post("/api/customers/bulk-delete", {"ids": ids}, format="json")
    skipped = key_client.post(
        "/api/customers/bulk-delete", {"ids": ids, "skipUndeletable": True}, format="json"
    )

    assert checked.json()["deletableIds"] == [tenant.customer.pk]
    assert refused.status_code == 404
    assert skipped.json() == {"deletedIds": [tenant.customer.pk]}
    assert snapshot(theirs.organization) == before


def test_history_never_shows_the_other_organizations_changes_to_the_same_id(
    tenant, theirs, key_client
):
    CustomerChange.objects.create(
        organization=theirs.organization,
        customer_id=tenant.customer.pk,
        customer_display_name="theirs",
        action="update",
        door="api",
        changes={"note": ["", "secret"]},
    )

    response = key_client.get(f"/api/customers/{tenant.customer.pk}/history")

    assert response.json()["history"] == []
    assert "secret" not in response.content.decode()


def test_an_idempotency_key_of_the_other_organization_is_not_replayed(tenant, theirs, client):
    body = {**BODY, "currencyCode": "USD"}
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {theirs.key}")
    client.post("/api/customers", body, format="json", HTTP_IDEMPOTENCY_KEY="k")
    before = snapshot(theirs.organization)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tenant.key}")

    response = client.post("/api/customers", body, format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert response.status_code == 201
    assert Customer.objects.get(pk=response.json()["id"]).organization == tenant.organization
    assert snapshot(theirs.organization) == before
    assert CustomerIdempotencyKey.objects.filter(key="k").count() == 2
