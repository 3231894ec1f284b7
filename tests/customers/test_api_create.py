"""POST /api/customers, and its Idempotency-Key."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.management.commands.setup_demo import SEED_EXAMPLE_BODY
from customers.models import Customer, CustomerChange, CustomerIdempotencyKey
from tests.budgets import CREATE_SIGNAL_STATEMENTS

pytestmark = pytest.mark.django_db

URL = "/api/customers"
NEW = {
    **SEED_EXAMPLE_BODY,
    "currencyCode": "USD",
    "openingBalance": 1000,
    "openingBalanceAt": "2024-01-01",
    "openingBalanceExchangeRate": 1,
}
NEW_SNAKE = {
    "customer_type": "individual",
    "display_name": "Snake Case",
    "first_name": "Sam",
    "billing_address_zipcode": "12345",
    "currency_code": "EUR",
    "opening_balance": 50.5,
    "opening_balance_at": "2024-02-01T10:00:00Z",
}


def created(tenant) -> Customer:
    return Customer.objects.filter(organization=tenant.organization).latest("id")


def test_create_with_bigcapitals_body_is_201_with_the_customer_and_its_etag(tenant, key_client):
    response = key_client.post(URL, NEW, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    customer = created(tenant)
    assert body["id"] == customer.pk
    assert response["ETag"] == '"1"'
    assert body["displayName"] == "John Doe - Acme Corporation"
    assert body["billingAddressPostcode"] == "10001"
    assert (body["balance"], body["openingBalance"], body["closingBalance"]) == (1000, 1000, 1000)
    assert body["openingBalanceAt"] == "2024-01-01T00:00:00Z"
    assert customer.balance == Decimal(1000)
    assert customer.organization == tenant.organization
    assert CustomerChange.objects.get(customer_id=customer.pk).action == "create"


def test_create_accepts_snake_case_and_answers_camel_case(tenant, key_client):
    response = key_client.post(URL + "/", NEW_SNAKE, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["displayName"], body["firstName"], body["currencyCode"]) == (
        "Snake Case",
        "Sam",
        "EUR",
    )
    assert body["billingAddressPostcode"] == "12345"
    assert body["balance"] == 50.5
    assert created(tenant).opening_balance == Decimal("50.500")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"currencyCode": None}, "currencyCode"),
        ({"currencyCode": "XYZ"}, "currencyCode"),
        ({"openingBalanceAt": None}, "openingBalanceAt"),
        ({"customerType": "company"}, "customerType"),
        ({"openingBalanceExchangeRate": 0}, "openingBalanceExchangeRate"),
    ],
)
def test_create_with_a_bad_field_is_400_naming_it_and_creates_nothing(
    tenant, key_client, change, field
):
    body = {k: v for k, v in {**NEW, **change}.items() if v is not None}

    response = key_client.post(URL, body, format="json")

    assert response.status_code == 400
    assert field in {error["field"] for error in response.json()["errors"]}
    assert Customer.objects.filter(organization=tenant.organization).count() == 1


def test_create_with_another_organizations_branch_is_branch_id_not_found(
    tenant, other_tenant, key_client
):
    response = key_client.post(
        URL, {**NEW, "openingBalanceBranchId": other_tenant.branch.pk}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["type"] == "BRANCH_ID_NOT_FOUND"
    assert Customer.objects.filter(organization=tenant.organization).count() == 1


def test_create_with_own_branch_stores_it(tenant, key_client):
    response = key_client.post(
        URL, {**NEW, "openingBalanceBranchId": tenant.branch.pk}, format="json"
    )

    assert response.status_code == 201
    assert created(tenant).opening_balance_branch == tenant.branch


def test_create_with_a_taken_code_is_400_customer_code_taken(tenant, key_client):
    key_client.post(URL, {**NEW, "code": "C-1"}, format="json")

    response = key_client.post(URL, {**NEW, "code": "C-1"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["type"] == "CUSTOMER_CODE_TAKEN"
    assert Customer.objects.filter(organization=tenant.organization, code="C-1").count() == 1


def test_the_same_code_in_another_organization_is_fine(tenant, other_tenant, key_client):
    Customer.objects.filter(
        organization=other_tenant.organization, pk=other_tenant.customer.pk
    ).update(code="C-1")

    response = key_client.post(URL, {**NEW, "code": "C-1"}, format="json")

    assert response.status_code == 201


def test_create_stays_within_its_query_budget(tenant, key_client, max_queries):
    key_client.get(URL)  # the API key's lastUsedAt is written at most once a minute: warm it up

    # authentication; the idempotency key; the branch; the duplicate lookup; the INSERT; its
    # signals; the event counter; the history row; the key's answer
    with max_queries(7 + CREATE_SIGNAL_STATEMENTS):
        response = key_client.post(
            URL,
            {**NEW, "openingBalanceBranchId": tenant.branch.pk},
            format="json",
            HTTP_IDEMPOTENCY_KEY="budget",
        )

    assert response.status_code == 201


def post_once(key_client, body, key="key-1"):
    return key_client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_retry_with_the_same_key_and_body_replays_the_first_answer_and_creates_nothing(
    tenant, key_client
):
    first = post_once(key_client, NEW)
    key_client.patch(f"{URL}/{first.json()['id']}", {"note": "later"}, format="json")

    retry = post_once(key_client, dict(reversed(NEW.items())))  # same body, other key order

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["ETag"] == first["ETag"]
    assert retry["Idempotent-Replayed"] == "true"
    assert Customer.objects.filter(organization=tenant.organization).count() == 2


def test_the_same_key_with_another_body_is_422_and_creates_nothing(tenant, key_client):
    post_once(key_client, NEW)

    response = post_once(key_client, {**NEW, "displayName": "Someone else"})

    assert response.status_code == 422
    assert response.json()["errors"][0]["type"] == "IDEMPOTENCY_KEY_REUSED"
    assert not Customer.objects.filter(display_name="Someone else").exists()


def test_other_keys_create_other_customers(tenant, key_client):
    post_once(key_client, NEW, key="a")
    post_once(key_client, NEW, key="b")

    assert Customer.objects.filter(organization=tenant.organization).count() == 3


def test_an_expired_key_may_be_used_again(tenant, key_client):
    post_once(key_client, NEW)
    CustomerIdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))

    response = post_once(key_client, {**NEW, "displayName": "Fresh"})

    assert response.status_code == 201
    assert response.json()["displayName"] == "Fresh"
    assert CustomerIdempotencyKey.objects.get().response_body["displayName"] == "Fresh"


def test_a_failed_create_is_not_replayed(tenant, key_client):
    CustomerIdempotencyKey.objects.all().delete()
    key_client.post(URL, {**NEW, "code": "TAKEN"}, format="json")

    failed = post_once(key_client, {**NEW, "code": "TAKEN"})
    retried = post_once(key_client, {**NEW, "code": "TAKEN"})

    assert failed.status_code == retried.status_code == 400
    assert not CustomerIdempotencyKey.objects.exists()


def test_keys_are_per_organization(tenant, other_tenant, key_client, client):
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {other_tenant.key}")
    post_once(client, {**NEW, "displayName": "Theirs"})

    mine = post_once(key_client, NEW)

    assert mine.status_code == 201
    assert mine.json()["displayName"] == "John Doe - Acme Corporation"
    assert Customer.objects.filter(organization=tenant.organization).count() == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "naïve"])
def test_a_malformed_idempotency_key_is_400(tenant, key_client, key):
    response = post_once(key_client, NEW, key=key)

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert Customer.objects.filter(organization=tenant.organization).count() == 1
