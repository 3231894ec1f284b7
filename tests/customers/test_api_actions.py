"""DELETE, opening balance, activate/inactivate (also at /api/contacts/…), bulk delete, If-Match."""

from decimal import Decimal

import pytest

from customers.models import Customer, CustomerChange
from tests.budgets import DELETE_SIGNAL_STATEMENTS, EDIT_STATEMENTS
from tests.factories import CustomerFactory, seed_customer

pytestmark = pytest.mark.django_db


def url(customer, suffix="") -> str:
    return f"/api/customers/{customer.pk}{suffix}"


def test_delete_answers_the_id_and_keeps_the_history(tenant, key_client):
    customer = tenant.customer

    response = key_client.delete(url(customer))

    assert response.status_code == 200
    assert response.json() == {"id": customer.pk}
    assert not Customer.objects.filter(pk=customer.pk).exists()
    assert CustomerChange.objects.filter(customer_id=customer.pk, action="delete").exists()


def test_delete_of_a_customer_with_transactions_is_400_and_deletes_nothing(tenant, key_client):
    customer = seed_customer(tenant.organization, tenant.branch)  # balance 1500, opening 1000

    response = key_client.delete(url(customer) + "/")

    assert response.status_code == 400
    assert response.json()["errors"][0]["type"] == "CUSTOMER_HAS_TRANSACTIONS"
    assert Customer.objects.filter(pk=customer.pk).exists()


@pytest.mark.parametrize(
    "body",
    [
        {"openingBalance": 1200, "openingBalanceAt": "2024-03-01", "openingBalanceBranchId": None},
        {"opening_balance": 1200, "opening_balance_at": "2024-03-01T00:00:00Z"},
    ],
)
def test_opening_balance_moves_the_balance_by_the_difference(tenant, key_client, body):
    customer = seed_customer(tenant.organization, tenant.branch)

    response = key_client.put(url(customer, "/opening-balance"), body, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["openingBalance"] == 1200
    assert response.json()["balance"] == 1700
    assert response.json()["openingBalanceAt"] == "2024-03-01T00:00:00Z"
    assert response["ETag"] == '"2"'
    customer.refresh_from_db()
    assert (customer.opening_balance, customer.balance) == (Decimal(1200), Decimal(1700))


def test_opening_balance_is_required_on_its_endpoint(tenant, key_client):
    response = key_client.put(url(tenant.customer, "/opening-balance"), {}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "openingBalance"


def test_opening_balance_with_another_organizations_branch_is_branch_id_not_found(
    tenant, other_tenant, key_client
):
    customer = seed_customer(tenant.organization, tenant.branch)

    response = key_client.put(
        url(customer, "/opening-balance"),
        {"openingBalance": 5, "openingBalanceBranchId": other_tenant.branch.pk},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["type"] == "BRANCH_ID_NOT_FOUND"
    customer.refresh_from_db()
    assert customer.opening_balance == Decimal(1000)


@pytest.mark.parametrize("method", ["post", "patch"])
def test_inactivate_then_activate(tenant, key_client, method):
    customer = tenant.customer
    send = getattr(key_client, method)

    inactivated = send(url(customer, "/inactivate"))
    again = send(url(customer, "/inactivate/"))
    activated = send(url(customer, "/activate"))
    twice = send(url(customer, "/activate"))

    assert (inactivated.status_code, inactivated.json()["active"]) == (200, False)
    assert again.json()["errors"][0]["type"] == "CONTACT_ALREADY_INACTIVE"
    assert (activated.status_code, activated.json()["active"]) == (200, True)
    assert activated["ETag"] == '"3"'
    assert (twice.status_code, twice.json()["errors"][0]["type"]) == (400, "CONTACT_ALREADY_ACTIVE")
    customer.refresh_from_db()
    assert customer.active is True
    assert customer.version == 3


def test_bigcapitals_contacts_paths_activate_and_inactivate(tenant, key_client):
    customer = tenant.customer

    inactivated = key_client.patch(f"/api/contacts/{customer.pk}/inactivate")
    customer.refresh_from_db()
    assert (inactivated.status_code, customer.active) == (200, False)
    activated = key_client.patch(f"/api/contacts/{customer.pk}/activate/")
    customer.refresh_from_db()
    assert (activated.status_code, customer.active) == (200, True)
    assert activated["ETag"] == customer.etag


OPENING = {"openingBalance": 1, "openingBalanceAt": "2024-01-01"}
WRITES = [
    ("put", "", {"customerType": "business", "displayName": "Stale"}),
    ("patch", "", {"displayName": "Stale"}),
    ("delete", "", None),
    ("put", "/opening-balance", OPENING),
    ("post", "/inactivate", None),
]


@pytest.mark.parametrize(("method", "suffix", "body"), WRITES)
def test_a_stale_if_match_is_412_and_writes_nothing(tenant, key_client, method, suffix, body):
    customer = tenant.customer
    key_client.patch(url(customer), {"note": "v2"}, format="json")

    response = getattr(key_client, method)(
        url(customer, suffix), body, format="json", HTTP_IF_MATCH='"1"'
    )

    assert response.status_code == 412
    assert response.json()["errors"][0]["type"] == "PRECONDITION_FAILED"
    customer.refresh_from_db()
    assert (customer.version, customer.display_name, customer.active) == (
        2,
        tenant.customer.display_name,
        True,
    )
    assert CustomerChange.objects.filter(customer_id=customer.pk).count() == 1


@pytest.mark.parametrize(("method", "suffix", "body"), WRITES)
def test_a_current_if_match_lets_the_write_through(tenant, key_client, method, suffix, body):
    response = getattr(key_client, method)(
        url(tenant.customer, suffix), body, format="json", HTTP_IF_MATCH='"1"'
    )

    assert response.status_code == 200, response.json()


@pytest.mark.parametrize(
    ("method", "suffix", "body", "budget"),
    [
        # authentication; the customer; the edit with its history row
        ("put", "/opening-balance", OPENING, 2 + EDIT_STATEMENTS),
        # authentication; the customer; the edit with its history row
        ("post", "/inactivate", None, 2 + EDIT_STATEMENTS),
        ("patch", "/inactivate", None, 2 + EDIT_STATEMENTS),
        # authentication; the customer, locked; the event counter; the history row; its
        # signals' DELETE; the DELETE
        ("delete", "", None, 5 + DELETE_SIGNAL_STATEMENTS),
    ],
)
def test_each_action_stays_within_its_query_budget(
    tenant, key_client, max_queries, method, suffix, body, budget
):
    key_client.get(url(tenant.customer))  # warm up: lastUsedAt is written once a minute

    with max_queries(budget):
        response = getattr(key_client, method)(url(tenant.customer, suffix), body, format="json")

    assert response.status_code == 200


def test_an_opening_balance_with_a_branch_checks_the_branch_in_one_more_query(
    tenant, key_client, max_queries
):
    key_client.get(url(tenant.customer))  # warm up: lastUsedAt is written once a minute
    body = {**OPENING, "openingBalanceBranchId": tenant.branch.pk}

    # authentication; the customer; the branch; the edit with its history row
    with max_queries(3 + EDIT_STATEMENTS):
        response = key_client.put(url(tenant.customer, "/opening-balance"), body, format="json")

    assert response.status_code == 200
    assert response.json()["openingBalanceBranchId"] == tenant.branch.pk


def bulk_customers(tenant):
    clean = CustomerFactory.create_batch(2, organization=tenant.organization)
    with_transactions = seed_customer(tenant.organization, tenant.branch)
    return clean, with_transactions


def test_validate_bulk_delete_tells_deletable_from_not(tenant, other_tenant, key_client):
    clean, busy = bulk_customers(tenant)
    ids = [clean[0].pk, busy.pk, clean[1].pk, other_tenant.customer.pk]

    response = key_client.post("/api/customers/validate-bulk-delete", {"ids": ids}, format="json")

    assert response.status_code == 200
    assert response.json() == {
        "deletableCount": 2,
        "nonDeletableCount": 2,
        "deletableIds": [clean[0].pk, clean[1].pk],
        "nonDeletableIds": [busy.pk, other_tenant.customer.pk],
    }
    assert Customer.objects.filter(pk__in=ids).count() == 4


def test_bulk_delete_is_all_or_nothing(tenant, key_client):
    clean, busy = bulk_customers(tenant)

    response = key_client.post(
        "/api/customers/bulk-delete", {"ids": [clean[0].pk, busy.pk]}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["type"] == "CUSTOMER_HAS_TRANSACTIONS"
    assert Customer.objects.filter(pk__in=[clean[0].pk, busy.pk]).count() == 2
    assert not CustomerChange.objects.filter(action="delete").exists()


def test_bulk_delete_with_an_unknown_id_is_404_and_deletes_nothing(tenant, key_client):
    clean, _ = bulk_customers(tenant)

    response = key_client.post(
        "/api/customers/bulk-delete/", {"ids": [clean[0].pk, 987654]}, format="json"
    )

    assert response.status_code == 404
    assert response.json()["errors"][0]["type"] == "CUSTOMER_NOT_FOUND"
    assert Customer.objects.filter(pk=clean[0].pk).exists()


@pytest.mark.parametrize("flag", ["skipUndeletable", "skip_undeletable"])
def test_bulk_delete_with_skip_undeletable_deletes_the_rest(tenant, key_client, flag):
    clean, busy = bulk_customers(tenant)
    ids = [clean[0].pk, busy.pk, clean[1].pk]

    response = key_client.post(
        "/api/customers/bulk-delete", {"ids": ids, flag: True}, format="json"
    )

    assert response.status_code == 200
    assert response.json() == {"deletedIds": [clean[0].pk, clean[1].pk]}
    assert list(Customer.objects.filter(pk__in=ids).values_list("pk", flat=True)) == [busy.pk]
    assert set(
        CustomerChange.objects.filter(action="delete").values_list("customer_id", flat=True)
    ) == {clean[0].pk, clean[1].pk}


@pytest.mark.parametrize(
    "body",
    [{}, {"ids": []}, {"ids": ["1"]}, {"ids": [0]}, {"ids": 5}, {"ids": [1], "force": True}],
)
def test_bulk_delete_with_a_bad_body_is_400(tenant, key_client, body):
    response = key_client.post("/api/customers/bulk-delete", body, format="json")

    assert response.status_code == 400
    assert Customer.objects.filter(organization=tenant.organization).count() == 1


def test_bulk_delete_costs_the_same_few_queries_for_many_customers(tenant, key_client, max_queries):
    ids = [c.pk for c in CustomerFactory.create_batch(100, organization=tenant.organization)]
    key_client.get("/api/customers")  # warm up: lastUsedAt is written once a minute

    with max_queries(7 + DELETE_SIGNAL_STATEMENTS):
        response = key_client.post("/api/customers/bulk-delete", {"ids": ids}, format="json")

    assert response.json() == {"deletedIds": ids}
    assert CustomerChange.objects.filter(action="delete").count() == 100


def test_validate_bulk_delete_takes_bigcapitals_bulk_delete_body(tenant, key_client):
    # Bigcapital's BulkDeleteCustomersDto: its clients send skipUndeletable to both routes.
    clean, busy = bulk_customers(tenant)
    body = {"ids": [clean[0].pk, busy.pk], "skipUndeletable": False}

    response = key_client.post("/api/customers/validate-bulk-delete", body, format="json")

    assert response.status_code == 200
    assert response.json()["deletableIds"] == [clean[0].pk]
    assert response.json()["nonDeletableIds"] == [busy.pk]
    assert Customer.objects.filter(pk__in=body["ids"]).count() == 2
