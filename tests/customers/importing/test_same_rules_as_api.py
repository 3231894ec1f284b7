"""One definition of a valid customer: a JSON file row and an API body get the same verdict."""

import json

import pytest

from customers.api.serializers import CustomerCreateSerializer

pytestmark = pytest.mark.django_db

VALID = {"customerType": "business", "displayName": "Acme", "currencyCode": "USD"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("displayName", "x" * 256),
        ("displayName", "   "),
        ("displayName", 12),
        ("note", "x" * 65536),
        ("firstName", "nul\x00byte"),
        ("email", "not-an-email"),
        ("code", ["a"]),
        ("customerType", "company"),
        ("active", "true"),
        ("active", 1),
        ("currencyCode", "usd"),
        ("currencyCode", "ZZZ"),
        ("openingBalance", "100"),
        ("openingBalance", 12345678901.5),
        ("openingBalance", 1.2345),
        ("openingBalanceExchangeRate", 0),
        ("openingBalanceExchangeRate", 0.0000000001),
        ("openingBalanceAt", "yesterday"),
        ("openingBalanceBranchId", 1.5),
        ("openingBalanceBranchId", 0),
        ("openingBalanceBranchId", True),
    ],
)
def test_a_json_row_fails_with_the_api_message(tmp_path, tenant, run_import, field, value):
    body = {**VALID, field: value}
    if field == "openingBalance":
        body["openingBalanceAt"] = "2024-01-01"
    serializer = CustomerCreateSerializer(data=body)
    assert not serializer.is_valid()
    api_message = str(serializer.errors[field][0])
    path = tmp_path / "row.json"
    path.write_text(json.dumps([body]))

    run = run_import(path, tenant.organization)

    assert f"Row 1, {field}: {api_message}" in run.stderr, run.output


@pytest.mark.parametrize(
    ("field", "value", "stored"),
    [
        ("displayName", "  Acme  ", "Acme"),
        ("code", "", None),
        ("openingBalance", 1.5, "1.500"),
        ("openingBalanceAt", "2024-01-01", "2024-01-01 00:00:00+00:00"),
    ],
)
def test_a_json_row_is_cleaned_as_the_api_cleans_it(
    tmp_path, tenant, run_import, field, value, stored
):
    body = {**VALID, field: value, "openingBalanceAt": "2024-01-01"}
    serializer = CustomerCreateSerializer(data=body)
    assert serializer.is_valid(), serializer.errors
    path = tmp_path / "row.json"
    path.write_text(json.dumps([body]))

    run = run_import(path, tenant.organization)

    assert run.failed is None, run.output
    attribute = next(
        key for key in serializer.validated_data if key.replace("_", "") in (field.lower(),)
    )
    customer = tenant.organization.customers.exclude(pk=tenant.customer.pk).get()
    assert str(getattr(customer, attribute)) == str(serializer.validated_data[attribute])
    assert str(getattr(customer, attribute)) == str(stored)
