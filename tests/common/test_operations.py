"""What operators and load balancers read: the probes, the request id, the request log."""

import json
import logging

import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from common import health
from common.requestlog import MAX_REQUEST_ID, RequestIdFilter


def test_healthz_answers_without_touching_the_database(client):
    # No django_db mark: any query would fail the test ("Database access not allowed").
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_asks_the_database(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "up"}
    assert "SELECT 1" in [query["sql"] for query in queries]


@pytest.mark.django_db
def test_readyz_is_503_with_retry_after_when_the_database_fails(client, monkeypatch):
    # The real outage (PostgreSQL stopped under gunicorn) is in
    # tests/reliability/test_database_outage.py; this is the answer's shape.
    def failing_cursor():
        raise DatabaseError("connection refused")

    monkeypatch.setattr(health.connection, "cursor", failing_cursor)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response["Retry-After"] == str(health.RETRY_AFTER_SECONDS)
    assert response.json()["database"] == "down"


def test_probes_take_no_body_and_no_writes(client):
    assert client.post("/healthz").status_code == 405
    assert client.head("/healthz").status_code == 200


@pytest.mark.django_db
def test_probes_are_never_rate_limited(client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "sign_in_address": "1/hour",
        },
    }
    assert [client.get("/readyz").status_code for _ in range(5)] == [200] * 5


@pytest.mark.django_db
def test_a_request_id_is_kept_when_usable_and_made_otherwise(tenant, key_client):
    path = f"/api/customers/{tenant.customer.pk}"

    given = key_client.get(path, HTTP_X_REQUEST_ID="lb-7f3a-01")
    made = key_client.get(path)
    other = key_client.get(path)

    assert given["X-Request-ID"] == "lb-7f3a-01"
    assert len(made["X-Request-ID"]) == 32
    assert made["X-Request-ID"] != other["X-Request-ID"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "forged", ["x" * 10_240, "ok\nforged log line", "tab\there", "two words", "é" * 10]
)
def test_a_forged_request_id_is_replaced_not_logged(tenant, key_client, caplog, forged):
    with caplog.at_level(logging.INFO, logger="counterpart.requests"):
        response = key_client.get(f"/api/customers/{tenant.customer.pk}", HTTP_X_REQUEST_ID=forged)

    assert response["X-Request-ID"] != forged
    assert len(response["X-Request-ID"]) <= MAX_REQUEST_ID
    assert all(forged not in record.getMessage() for record in caplog.records)
    assert all(getattr(record, "request_id", None) != forged for record in caplog.records)


@pytest.mark.django_db
def test_one_line_per_request_names_the_route_and_the_credential_never_the_key(
    tenant, key_client, caplog
):
    with caplog.at_level(logging.INFO, logger="counterpart.requests"):
        response = key_client.get(
            f"/api/customers/{tenant.customer.pk}", HTTP_X_REQUEST_ID="trace-1"
        )

    [line] = [r for r in caplog.records if r.name == "counterpart.requests"]
    assert response.status_code == 200
    assert (line.method, line.status, line.request_id) == ("GET", 200, "trace-1")
    assert line.route.startswith("/api/customers/")
    assert str(tenant.customer.pk) not in line.route
    assert (line.organization_id, line.api_key_id) == (tenant.organization.pk, tenant.api_key.pk)
    assert line.duration_ms >= 0
    assert tenant.key not in json.dumps(vars(line), default=str)


class Collected(logging.Handler):
    """A handler as LOGGING configures the console's: with the request-id filter."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.addFilter(RequestIdFilter())
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.mark.django_db
def test_error_answers_and_their_log_lines_carry_the_request_id(tenant, key_client):
    handler, root = Collected(), logging.getLogger()
    root.addHandler(handler)
    try:
        response = key_client.get("/api/customers/987654321", HTTP_X_REQUEST_ID="trace-404")
    finally:
        root.removeHandler(handler)

    assert response.status_code == 404
    assert response["X-Request-ID"] == "trace-404"
    assert {r.name for r in handler.records} >= {"counterpart.requests", "django.request"}
    assert {r.request_id for r in handler.records} == {"trace-404"}
