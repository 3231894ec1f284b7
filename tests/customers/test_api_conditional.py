"""ETag and If-Match: no lost updates, and query budgets of the seed's endpoint."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from customers.models import Customer, CustomerChange
from tests.budgets import EDIT_STATEMENTS, IDENTITY_EDIT_STATEMENTS

pytestmark = pytest.mark.django_db

BODY = {"customerType": "business", "displayName": "Edited"}


def url(customer) -> str:
    return f"/api/customers/{customer.pk}"


def test_put_with_stale_if_match_returns_412_and_writes_nothing(tenant, key_client):
    customer = tenant.customer
    Customer.objects.filter(pk=customer.pk).update(version=2)

    response = key_client.put(url(customer), BODY, format="json", HTTP_IF_MATCH='"1"')

    assert response.status_code == 412
    assert response.json()["errors"][0]["type"] == "PRECONDITION_FAILED"
    customer.refresh_from_db()
    assert (customer.display_name, customer.version) != ("Edited", 3)
    assert customer.version == 2
    assert not CustomerChange.objects.filter(customer_id=customer.pk).exists()


def test_put_with_fresh_if_match_succeeds_and_the_etag_changes(tenant, key_client):
    etag = key_client.get(url(tenant.customer))["ETag"]

    response = key_client.put(url(tenant.customer), BODY, format="json", HTTP_IF_MATCH=etag)

    assert response.status_code == 200
    assert response["ETag"] != etag
    assert response["ETag"] == key_client.get(url(tenant.customer))["ETag"]
    tenant.customer.refresh_from_db()
    assert tenant.customer.display_name == "Edited"


def test_the_second_of_two_edits_from_the_same_read_gets_412(tenant, key_client):
    etag = key_client.get(url(tenant.customer))["ETag"]

    first = key_client.patch(
        url(tenant.customer), {"note": "first"}, format="json", HTTP_IF_MATCH=etag
    )
    second = key_client.patch(
        url(tenant.customer), {"note": "second"}, format="json", HTTP_IF_MATCH=etag
    )

    assert (first.status_code, second.status_code) == (200, 412)
    tenant.customer.refresh_from_db()
    assert tenant.customer.note == "first"


@pytest.mark.parametrize(("header", "status"), [("*", 200), ('"9", "1"', 200), ('W/"1"', 412)])
def test_if_match_forms(tenant, key_client, header, status):
    response = key_client.patch(
        url(tenant.customer), {"note": "x"}, format="json", HTTP_IF_MATCH=header
    )

    assert response.status_code == status


def test_if_match_on_another_organizations_customer_is_still_404(tenant, other_tenant, key_client):
    response = key_client.put(url(other_tenant.customer), BODY, format="json", HTTP_IF_MATCH="*")

    assert response.status_code == 404


def test_a_put_records_who_changed_what_through_which_door(tenant, key_client):
    key_client.put(url(tenant.customer), {**BODY, "billingAddressZipcode": "10001"}, format="json")

    change = CustomerChange.objects.get(customer_id=tenant.customer.pk)
    assert change.action == "update"
    assert change.door == "api"
    assert change.actor_api_key == tenant.api_key
    assert change.actor_user == tenant.owner
    assert change.changes["displayName"][1] == "Edited"
    assert change.changes["billingAddressPostcode"] == ["", "10001"]


def warm_up(api: APIClient, customer) -> None:
    """The key's lastUsedAt is written at most once a minute; the budgets are for the other
    59 seconds, so one request first."""
    assert api.get(url(customer)).status_code == 200


@pytest.mark.parametrize("client_fixture", ["key_client", "jwt_client"])
def test_get_costs_at_most_2_queries_authentication_included(
    request, tenant, max_queries, client_fixture
):
    api = request.getfixturevalue(client_fixture)
    warm_up(api, tenant.customer)

    with max_queries(2):
        assert api.get(url(tenant.customer)).status_code == 200


@pytest.mark.parametrize("client_fixture", ["key_client", "jwt_client"])
def test_put_costs_3_queries_authentication_included(request, tenant, max_queries, client_fixture):
    api = request.getfixturevalue(client_fixture)
    warm_up(api, tenant.customer)

    # Authentication; the customer; its UPDATE with its history row (three statements on
    # SQLite); the body renames the customer, so its identity signals are rewritten.
    with max_queries(2 + EDIT_STATEMENTS + IDENTITY_EDIT_STATEMENTS):
        response = api.put(url(tenant.customer), BODY, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 200


@pytest.mark.parametrize("client_fixture", ["key_client", "jwt_client"])
def test_a_put_that_leaves_identity_alone_costs_the_edit_alone(
    request, tenant, max_queries, client_fixture
):
    api = request.getfixturevalue(client_fixture)
    warm_up(api, tenant.customer)
    same_identity = api.get(url(tenant.customer)).json() | {"note": "Call before noon"}

    # Authentication; the customer; its UPDATE with its history row: no signal is touched.
    with max_queries(2 + EDIT_STATEMENTS):
        response = api.put(url(tenant.customer), same_identity, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["note"] == "Call before noon"


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_if_match_edits_never_lose_an_update(tenant):
    """Eight clients read version 1 and all write with If-Match: exactly one wins."""
    barrier = threading.Barrier(8)
    statuses = []

    def edit(n):
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {tenant.key}")
        barrier.wait()
        response = api.patch(
            url(tenant.customer), {"note": f"writer {n}"}, format="json", HTTP_IF_MATCH='"1"'
        )
        statuses.append(response.status_code)
        connection.close()

    threads = [threading.Thread(target=edit, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200] + [412] * 7
    tenant.customer.refresh_from_db()
    assert tenant.customer.version == 2
    assert CustomerChange.objects.filter(customer_id=tenant.customer.pk).count() == 1
