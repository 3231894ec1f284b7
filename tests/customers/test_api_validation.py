"""Each field rule of API contract section 4: a 400 naming the field, and nothing written."""

import pytest

from customers.fields import FIELDS, Access, Kind

pytestmark = pytest.mark.django_db

TEXT_FIELDS = [
    f.name for f in FIELDS if f.kind is Kind.TEXT and f.on_update is not Access.READ_ONLY
]
EMAIL_FIELDS = [f.name for f in FIELDS if f.kind is Kind.EMAIL]

INVALID = [
    ("customerType", "company"),
    ("customerType", "Business"),
    ("customerType", 1),
    ("customerType", None),
    ("displayName", ""),
    ("displayName", "   "),
    ("displayName", None),
    ("displayName", "x" * 256),
    ("displayName", 123),
    ("displayName", ["a"]),
    ("code", "c" * 256),
    ("code", 5),
    ("note", "n" * 65536),
    ("note", {"a": 1}),
    ("active", "true"),
    ("active", 1),
    ("active", None),
    ("active", "yes"),
    ("billingAddressZipcode", "z" * 256),
    ("shippingAddressZipcode", 90001),
    *[(name, "t" * 256) for name in TEXT_FIELDS],
    *[(name, 42) for name in TEXT_FIELDS],
    *[(name, True) for name in TEXT_FIELDS],
    *[(name, "not-an-email") for name in EMAIL_FIELDS],
    *[(name, "a@b") for name in EMAIL_FIELDS],
]


def url(tenant) -> str:
    return f"/api/customers/{tenant.customer.pk}"


@pytest.mark.parametrize(("field", "value"), INVALID, ids=lambda v: repr(v)[:30])
def test_invalid_value_is_400_naming_the_field_and_writes_nothing(tenant, key_client, field, value):
    before = key_client.get(url(tenant)).json()
    body = {"customerType": "business", "displayName": "Valid", field: value}

    response = key_client.put(url(tenant), body, format="json")

    assert response.status_code == 400, response.json()
    errors = response.json()["errors"]
    assert [(e["type"], e["field"]) for e in errors] == [("VALIDATION_ERROR", field)]
    assert errors[0]["statusCode"] == 400
    assert key_client.get(url(tenant)).json() == before


def test_every_problem_is_reported_at_once(tenant, key_client):
    body = {"customerType": "x", "displayName": "", "email": "nope", "active": "no"}

    response = key_client.put(url(tenant), body, format="json")

    assert {e["field"] for e in response.json()["errors"]} == {
        "customerType",
        "displayName",
        "email",
        "active",
    }


def test_snake_case_errors_are_reported_under_the_camel_case_name(tenant, key_client):
    response = key_client.patch(url(tenant), {"display_name": ""}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "displayName"


@pytest.mark.parametrize(
    ("field", "value", "stored"),
    [
        ("displayName", "  Trimmed  ", "Trimmed"),
        ("note", "n" * 65535, "n" * 65535),
        ("email", "", ""),
        ("email", "Someone@Example.com", "Someone@Example.com"),
        ("website", "t" * 255, "t" * 255),
        ("code", "", None),
        ("code", " C-1 ", "C-1"),
        ("active", False, False),
        ("customerType", "individual", "individual"),
    ],
)
def test_valid_values_are_stored_cleaned(tenant, key_client, field, value, stored):
    from customers.fields import FIELDS_BY_NAME

    response = key_client.patch(url(tenant), {field: value}, format="json")

    assert response.status_code == 200, response.json()
    tenant.customer.refresh_from_db()
    assert getattr(tenant.customer, FIELDS_BY_NAME[field].attribute) == stored


def test_a_code_taken_by_another_customer_is_400_customer_code_taken(tenant, key_client):
    from tests.factories import CustomerFactory

    CustomerFactory(organization=tenant.organization, code="TAKEN")

    response = key_client.patch(url(tenant), {"code": "TAKEN"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "statusCode": 400,
            "type": "CUSTOMER_CODE_TAKEN",
            "message": "Another customer of this organization already has this code.",
            "field": "code",
        }
    ]
    tenant.customer.refresh_from_db()
    assert tenant.customer.code is None


def test_the_same_code_in_another_organization_is_fine(tenant, other_tenant, key_client):
    from tests.factories import CustomerFactory

    CustomerFactory(organization=other_tenant.organization, code="SHARED")

    response = key_client.patch(url(tenant), {"code": "SHARED"}, format="json")

    assert response.status_code == 200
