"""/metrics: Prometheus's text format, for the operator's scraper and nobody else."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

METRICS_TOKEN = "scrape-" + "s" * 40


def samples(response) -> dict:
    families = text_string_to_metric_families(response.content.decode())
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in families
        for sample in family.samples
    }


def request_count(client, route: str, status: int) -> float:
    labels = (("method", "GET"), ("route", route), ("status", str(status)))
    return samples(client.get("/metrics")).get(("counterpart_requests_total", labels), 0)


@pytest.mark.django_db
def test_requests_are_counted_by_route_pattern_and_status(client, tenant, key_client):
    route = "/api/customers/(?P<pk>[^/]+)/?$"  # the pattern: one series for every customer
    before_ok = request_count(client, route, 200)
    before_missing = request_count(client, route, 404)

    key_client.get(f"/api/customers/{tenant.customer.pk}")
    key_client.get(f"/api/customers/{tenant.customer.pk}")
    key_client.get("/api/customers/987654321")

    assert request_count(client, route, 200) == before_ok + 2
    assert request_count(client, route, 404) == before_missing + 1
    scraped = samples(client.get("/metrics"))
    assert any(name == "counterpart_request_seconds_bucket" for name, _ in scraped)


def test_metrics_are_served_in_prometheus_text_format_to_loopback(client):
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    "request_meta",
    [
        {"REMOTE_ADDR": "203.0.113.9"},
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"},
        {"REMOTE_ADDR": "203.0.113.9", "HTTP_AUTHORIZATION": "Bearer wrong"},
    ],
)
def test_metrics_are_404_to_anyone_else(client, settings, request_meta):
    settings.METRICS_TOKEN = METRICS_TOKEN

    assert client.get("/metrics", **request_meta).status_code == 404


def test_the_token_opens_metrics_from_anywhere(client, settings):
    settings.METRICS_TOKEN = METRICS_TOKEN

    response = client.get(
        "/metrics",
        REMOTE_ADDR="203.0.113.9",
        HTTP_X_FORWARDED_FOR="198.51.100.1",
        HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}",
    )

    assert response.status_code == 200


def test_without_a_token_configured_no_bearer_value_opens_metrics(client, settings):
    settings.METRICS_TOKEN = ""

    assert (
        client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer ").status_code
        == 404
    )
