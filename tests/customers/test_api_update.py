"""PUT /api/customers/{id}, the reference page's endpoint, and GET of one customer."""

from decimal import Decimal

import pytest

from customers.management.commands.setup_demo import SEED_EXAMPLE_BODY
from customers.models import Customer
from tests.conftest import access_token
from tests.factories import CustomerFactory, seed_customer

pytestmark = pytest.mark.django_db

# The reference page's response fields, and the values it shows for them.
SEED_RESPONSE = {
    "balance": 1500,
    "currencyCode": "USD",
    "openingBalance": 1000,
    "openingBalanceAt": "2024-01-01T00:00:00Z",
    "openingBalanceExchangeRate": 1,
    "salutation": "Mr.",
    "firstName": "John",
    "lastName": "Doe",
    "companyName": "Acme Corporation",
    "displayName": "John Doe - Acme Corporation",
    "email": "john.doe@acme.com",
    "workPhone": "+1 (555) 123-4567",
    "personalPhone": "+1 (555) 987-6543",
    "website": "https://www.acme.com",
    "billingAddress1": "123 Business Ave",
    "billingAddress2": "Suite 100",
    "billingAddressCity": "New York",
    "billingAddressCountry": "United States",
    "billingAddressEmail": "billing@acme.com",
    "billingAddressPostcode": "10001",
    "billingAddressPhone": "+1 (555) 111-2222",
    "billingAddressState": "NY",
    "shippingAddress1": "456 Shipping St",
    "shippingAddress2": "Unit 200",
    "shippingAddressCity": "Los Angeles",
    "shippingAddressCountry": "United States",
    "shippingAddressEmail": "shipping@acme.com",
    "shippingAddressPostcode": "90001",
    "shippingAddressPhone": "+1 (555) 333-4444",
    "shippingAddressState": "CA",
    "note": "Important client with regular monthly orders",
    "active": True,
    "localOpeningBalance": 1000,
    "closingBalance": 1500,
}
SEED_RESPONSE_KEYS = {*SEED_RESPONSE, "openingBalanceBranchId", "createdAt", "updatedAt"}


def url(customer) -> str:
    return f"/api/customers/{customer.pk}"


def assert_seed_response(response, customer: Customer):
    assert response.status_code == 200, response.json()
    body = response.json()
    # Exactly the page's fields, plus the resource's id, type and code (API contract section 4).
    assert set(body) == SEED_RESPONSE_KEYS | {"id", "customerType", "code"}
    assert {key: body[key] for key in SEED_RESPONSE} == SEED_RESPONSE
    assert body["openingBalanceBranchId"] == customer.opening_balance_branch_id
    assert body["id"] == customer.pk
    assert body["createdAt"].endswith("Z")
    assert body["updatedAt"].endswith("Z")


def assert_stored_as_seed(customer: Customer):
    customer.refresh_from_db()
    assert customer.display_name == "John Doe - Acme Corporation"
    assert customer.billing_address_postcode == "10001"
    assert customer.shipping_address_postcode == "90001"
    assert customer.balance == Decimal("1500.000")
    assert customer.version == 2


def test_seed_example_put_with_api_key_returns_the_seed_response(tenant, key_client):
    customer = seed_customer(tenant.organization, tenant.branch)

    response = key_client.put(url(customer), SEED_EXAMPLE_BODY, format="json")

    assert_seed_response(response, customer)
    assert_stored_as_seed(customer)


def test_seed_example_put_with_jwt_and_organization_id_returns_the_seed_response(
    tenant, jwt_client
):
    customer = seed_customer(tenant.organization, tenant.branch)

    response = jwt_client.put(url(customer), SEED_EXAMPLE_BODY, format="json")

    assert_seed_response(response, customer)
    assert_stored_as_seed(customer)


def test_the_page_example_without_customer_type_is_refused_because_the_page_requires_it(
    tenant, key_client
):
    customer = seed_customer(tenant.organization, tenant.branch)
    body = {k: v for k, v in SEED_EXAMPLE_BODY.items() if k != "customerType"}

    response = key_client.put(url(customer), body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "statusCode": 400,
            "type": "VALIDATION_ERROR",
            "message": "This field is required.",
            "field": "customerType",
        }
    ]
    customer.refresh_from_db()
    assert customer.display_name == "Old name"


def test_get_returns_the_customer_with_its_etag(tenant, key_client):
    customer = seed_customer(tenant.organization, tenant.branch)

    response = key_client.get(url(customer))

    assert response.status_code == 200
    assert response["ETag"] == '"1"'
    assert response.json()["displayName"] == "Old name"
    assert response.json()["billingAddressPostcode"] == ""


def test_get_with_a_matching_if_none_match_is_304(tenant, key_client):
    response = key_client.get(url(tenant.customer), HTTP_IF_NONE_MATCH='"1"')

    assert response.status_code == 304


def test_trailing_slash_works_without_redirect(tenant, key_client):
    response = key_client.put(
        url(tenant.customer) + "/",
        {"customerType": "individual", "displayName": "Slash"},
        format="json",
    )

    assert response.status_code == 200
    tenant.customer.refresh_from_db()
    assert tenant.customer.display_name == "Slash"


def test_put_keeps_omitted_fields(tenant, key_client):
    customer = CustomerFactory(organization=tenant.organization, email="a@example.com", note="n")

    response = key_client.put(
        url(customer), {"customerType": "individual", "displayName": "New"}, format="json"
    )

    assert response.status_code == 200
    customer.refresh_from_db()
    assert (customer.display_name, customer.email, customer.note) == ("New", "a@example.com", "n")
    assert customer.customer_type == "individual"


def test_patch_needs_no_required_fields(tenant, key_client):
    response = key_client.patch(url(tenant.customer), {"note": "just this"}, format="json")

    assert response.status_code == 200
    tenant.customer.refresh_from_db()
    assert tenant.customer.note == "just this"


def test_snake_case_input_is_accepted_and_output_stays_camel_case(tenant, key_client):
    response = key_client.put(
        url(tenant.customer),
        {
            "customer_type": "business",
            "display_name": "Snake",
            "billing_address_zipcode": "12345",
            "shipping_address_postcode": "54321",
            "billing_address_1": "1 Main St",
        },
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["displayName"] == "Snake"
    assert body["billingAddressPostcode"] == "12345"
    assert body["shippingAddressPostcode"] == "54321"
    assert body["billingAddress1"] == "1 Main St"
    assert "display_name" not in body
    tenant.customer.refresh_from_db()
    assert tenant.customer.billing_address_postcode == "12345"
    assert tenant.customer.billing_address_1 == "1 Main St"


@pytest.mark.parametrize("spelling", ["billingAddressZipcode", "billingAddressPostcode"])
def test_both_postcode_spellings_land_in_the_postcode(tenant, key_client, spelling):
    response = key_client.patch(url(tenant.customer), {spelling: " 10001 "}, format="json")

    assert response.status_code == 200
    assert response.json()["billingAddressPostcode"] == "10001"
    assert "billingAddressZipcode" not in response.json()
    tenant.customer.refresh_from_db()
    assert tenant.customer.billing_address_postcode == "10001"


def test_zipcode_and_postcode_with_different_values_is_400_and_writes_nothing(tenant, key_client):
    response = key_client.patch(
        url(tenant.customer),
        {"shippingAddressZipcode": "1", "shippingAddressPostcode": "2"},
        format="json",
    )

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["type"] == "VALIDATION_ERROR"
    assert error["field"] == "shippingAddressPostcode"
    tenant.customer.refresh_from_db()
    assert tenant.customer.shipping_address_postcode == ""


def test_zipcode_and_postcode_with_the_same_value_is_fine(tenant, key_client):
    response = key_client.patch(
        url(tenant.customer),
        {"shippingAddressZipcode": "7", "shippingAddressPostcode": "7"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["shippingAddressPostcode"] == "7"


def test_null_clears_an_optional_text_field(tenant, key_client):
    customer = CustomerFactory(organization=tenant.organization, email="a@example.com", code="C1")

    response = key_client.patch(url(customer), {"email": None, "code": None}, format="json")

    assert response.status_code == 200
    assert response.json()["email"] == ""
    assert response.json()["code"] is None
    customer.refresh_from_db()
    assert (customer.email, customer.code) == ("", None)


def test_read_only_fields_in_the_body_are_ignored(tenant, key_client):
    customer = seed_customer(tenant.organization, tenant.branch)
    got = key_client.get(url(customer)).json()
    sent = {
        **got,
        "displayName": "Round trip",
        "id": 999999,
        "balance": 1,
        "closingBalance": 2,
        "currencyCode": "EUR",
        "openingBalance": 5,
        "openingBalanceAt": "2020-01-01",
        "openingBalanceExchangeRate": 3,
        "openingBalanceBranchId": None,
        "createdAt": "2000-01-01T00:00:00Z",
        "organization": 1,
        "opening_balance": 7,
    }

    response = key_client.put(url(customer), sent, format="json")

    assert response.status_code == 400  # "organization" is not a field of the resource
    assert response.json()["errors"] == [
        {
            "statusCode": 400,
            "type": "UNKNOWN_FIELD",
            "message": "Unknown field.",
            "field": "organization",
        }
    ]
    del sent["organization"]
    response = key_client.put(url(customer), sent, format="json")

    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.display_name == "Round trip"
    assert customer.pk != 999999
    assert customer.balance == Decimal(1500)
    assert customer.currency_code == "USD"
    assert customer.opening_balance == Decimal(1000)
    assert customer.opening_balance_branch_id == tenant.branch.pk
    assert customer.organization_id == tenant.organization.pk


def test_unknown_fields_are_rejected_each_by_name(tenant, key_client):
    response = key_client.patch(
        url(tenant.customer), {"foo": 1, "billingZip": "1", "note": "x"}, format="json"
    )

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {(e["type"], e["field"]) for e in errors} == {
        ("UNKNOWN_FIELD", "foo"),
        ("UNKNOWN_FIELD", "billingZip"),
    }
    tenant.customer.refresh_from_db()
    assert tenant.customer.note == ""


def test_a_put_that_changes_nothing_keeps_the_version(tenant, key_client):
    customer = tenant.customer
    body = {"customerType": customer.customer_type, "displayName": customer.display_name}

    response = key_client.put(url(customer), body, format="json")

    assert response.status_code == 200
    assert response["ETag"] == '"1"'
    customer.refresh_from_db()
    assert customer.version == 1


def test_money_is_rendered_as_exact_json_numbers(tenant, key_client):
    customer = CustomerFactory(
        organization=tenant.organization,
        balance=Decimal("1234567890.125"),
        opening_balance=Decimal("0.001"),
        opening_balance_exchange_rate=Decimal("1.123456789"),
    )

    response = key_client.get(url(customer))

    assert b'"balance":1234567890.125' in response.content
    assert b'"openingBalance":0.001' in response.content
    assert b'"openingBalanceExchangeRate":1.123456789' in response.content
    assert b'"localOpeningBalance":0.001' in response.content


def test_customer_type_and_display_name_are_required_on_put(tenant, key_client):
    response = key_client.put(url(tenant.customer), {}, format="json")

    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"customerType", "displayName"}


def test_another_organizations_customer_is_404_like_a_missing_one(tenant, other_tenant, key_client):
    theirs = other_tenant.customer
    body = {"customerType": "business", "displayName": "Hijacked"}

    for response in (
        key_client.get(url(theirs)),
        key_client.put(url(theirs), body, format="json"),
        key_client.patch(url(theirs), body, format="json"),
        key_client.get("/api/customers/987654321"),
    ):
        assert response.status_code == 404
        assert response.json()["errors"][0]["type"] == "CUSTOMER_NOT_FOUND"
    theirs.refresh_from_db()
    assert theirs.display_name != "Hijacked"


def test_a_jwt_for_one_organization_cannot_reach_another_organizations_customer(
    tenant, other_tenant, client
):
    MembershipFromOther = other_tenant.organization.memberships.model
    MembershipFromOther.objects.create(organization=other_tenant.organization, user=tenant.owner)
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {access_token(tenant.owner)}",
        HTTP_ORGANIZATION_ID=str(tenant.organization.pk),
    )

    response = client.get(url(other_tenant.customer))

    assert response.status_code == 404


@pytest.mark.parametrize("customer_id", ["0", "99999999999999999999999", "-1", "abc", "1.5"])
def test_ids_that_cannot_exist_are_404_not_500(key_client, customer_id):
    response = key_client.get(f"/api/customers/{customer_id}")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
