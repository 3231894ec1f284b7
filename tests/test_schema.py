"""The OpenAPI document describes the seed's endpoint as the reference page does."""

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker, tmp_path_factory):
    path = tmp_path_factory.mktemp("schema") / "schema.yaml"
    with django_db_blocker.unblock():
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    return yaml.safe_load(path.read_text())


def resolve(schema, ref: str) -> dict:
    return schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def test_put_documents_the_pages_request_fields_with_the_zipcode_spelling(schema):
    put = schema["paths"]["/api/customers/{id}"]["put"]
    body = resolve(schema, put["requestBody"]["content"]["application/json"]["schema"]["$ref"])

    assert body["required"] == ["customerType", "displayName"]
    for name in ("billingAddressZipcode", "shippingAddressZipcode", "billingAddressPostcode"):
        assert name in body["properties"]
    for name in ("balance", "currencyCode", "openingBalance", "createdAt", "id"):
        assert name not in body["properties"]


def test_put_documents_the_pages_response_fields(schema):
    put = schema["paths"]["/api/customers/{id}"]["put"]
    ok = resolve(schema, put["responses"]["200"]["content"]["application/json"]["schema"]["$ref"])

    for name in ("balance", "closingBalance", "localOpeningBalance", "billingAddressPostcode"):
        assert name in ok["properties"]
    assert "billingAddressZipcode" not in ok["properties"]
    assert ok["properties"]["balance"]["type"] == "number"


def test_both_credentials_and_the_organization_header_are_documented(schema):
    put = schema["paths"]["/api/customers/{id}"]["put"]

    assert put["security"] == [{"apiKey": []}, {"jwt": []}]
    assert {"organization-id", "If-Match"} <= {p["name"] for p in put["parameters"]}
    schemes = schema["components"]["securitySchemes"]
    assert schemes["apiKey"]["scheme"] == "bearer"
    assert schemes["jwt"]["bearerFormat"] == "JWT"


def test_schema_and_docs_pages_are_served_without_credentials(client):
    assert client.get("/api/schema").status_code == 200
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()
