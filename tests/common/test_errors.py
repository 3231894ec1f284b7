"""Every error under /api/ is the contract's JSON envelope: never HTML, never a 500."""

import json

import pytest

pytestmark = pytest.mark.django_db


def url(tenant) -> str:
    return f"/api/customers/{tenant.customer.pk}"


def assert_envelope(response, status: int, error_type: str) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"errors"}
    [first, *_] = body["errors"]
    assert first["statusCode"] == status
    assert first["type"] == error_type
    assert first["message"]
    return first


def put_raw(client, path, body: bytes, content_type="application/json"):
    return client.generic("PUT", path, body, content_type=content_type)


def test_unknown_route_under_api_is_a_json_404(key_client):
    assert_envelope(key_client.get("/api/no-such-thing"), 404, "NOT_FOUND")


def test_unknown_route_without_credentials_is_still_a_json_404(client):
    assert_envelope(client.get("/api/customers/1/nope/deeper"), 404, "NOT_FOUND")


def test_wrong_method_is_405(tenant, key_client):
    assert_envelope(key_client.post(url(tenant), {}, format="json"), 405, "METHOD_NOT_ALLOWED")


def test_form_encoded_body_is_415_and_writes_nothing(tenant, key_client):
    response = put_raw(
        key_client, url(tenant), b"displayName=x", "application/x-www-form-urlencoded"
    )

    assert_envelope(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    tenant.customer.refresh_from_db()
    assert tenant.customer.display_name != "x"


def test_body_without_content_type_is_415(tenant, key_client):
    response = put_raw(key_client, url(tenant), b'{"displayName": "x"}', content_type="")

    assert_envelope(response, 415, "UNSUPPORTED_MEDIA_TYPE")


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b'{"displayName": "a",}',
        b'{"customerType": "business", "displayName": NaN}',
        b'{"customerType": "business", "displayName": "a", "note": Infinity}',
        b'{"displayName": "a", "displayName": "b"}',
        b'{"displayName": "\xff\xfe"}',
        b'{"note": ' + b"[" * 1000 + b"]" * 1000 + b"}",
        b"[" * 100_000 + b"]" * 100_000,
    ],
    ids=[
        "broken",
        "trailing-comma",
        "nan",
        "infinity",
        "duplicate-key",
        "bad-utf8",
        "deep-1000",
        "deep-100000",
    ],
)
def test_malformed_json_is_400_malformed_json(tenant, key_client, body):
    assert_envelope(put_raw(key_client, url(tenant), body), 400, "MALFORMED_JSON")


def test_a_json_array_body_is_a_validation_error(tenant, key_client):
    error = assert_envelope(put_raw(key_client, url(tenant), b"[]"), 400, "VALIDATION_ERROR")

    assert "field" not in error


def test_an_empty_body_is_a_validation_error_naming_the_required_fields(tenant, key_client):
    response = put_raw(key_client, url(tenant), b"")

    assert_envelope(response, 400, "VALIDATION_ERROR")
    assert {e["field"] for e in response.json()["errors"]} == {"customerType", "displayName"}


def test_a_list_where_text_belongs_is_a_validation_error(tenant, key_client):
    body = b'{"customerType": "business", "displayName": "x", "note": [[[]]]}'

    error = assert_envelope(put_raw(key_client, url(tenant), body), 400, "VALIDATION_ERROR")
    assert error["field"] == "note"


def test_a_10_mb_body_is_413_and_writes_nothing(tenant, key_client):
    note = "x" * (10 * 1024 * 1024)
    body = json.dumps({"customerType": "business", "displayName": "big", "note": note}).encode()

    assert_envelope(put_raw(key_client, url(tenant), body), 413, "PAYLOAD_TOO_LARGE")
    tenant.customer.refresh_from_db()
    assert tenant.customer.display_name != "big"


def test_a_body_just_under_the_limit_is_parsed(tenant, key_client, settings):
    settings.API_MAX_BODY_BYTES = 2000
    body = json.dumps({"customerType": "business", "displayName": "ok", "note": "n" * 1900})

    response = put_raw(key_client, url(tenant), body.encode())

    assert response.status_code == 200


def test_nul_character_in_a_string_is_400_naming_the_field(tenant, key_client):
    response = key_client.put(
        url(tenant), {"customerType": "business", "displayName": "a\x00b"}, format="json"
    )

    error = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert error["field"] == "displayName"


def test_an_unhandled_error_under_api_is_a_json_500_not_html(tenant, key_client, monkeypatch):
    from customers import services

    def explode(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "customer_update", explode)
    key_client.raise_request_exception = False

    response = key_client.patch(url(tenant), {"note": "x"}, format="json")

    assert_envelope(response, 500, "INTERNAL_ERROR")


def test_pages_outside_api_keep_html_404s(client):
    response = client.get("/not-api")

    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_a_database_outage_is_a_json_503_with_retry_after(tenant, key_client, monkeypatch):
    from django.db import OperationalError

    from customers import services

    def unreachable(**kwargs):
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    monkeypatch.setattr(services, "customer_update", unreachable)

    response = key_client.patch(url(tenant), {"note": "x"}, format="json")

    assert_envelope(response, 503, "SERVICE_UNAVAILABLE")
    assert response["Retry-After"] == "5"
