"""Smoke tests of bench/ (the benchmarks themselves are run by hand, see docs/performance.md)."""

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings
from rest_framework.filters import SearchFilter
from rest_framework.settings import api_settings
from rest_framework.test import APIClient
from rest_framework.views import APIView

from bench import floor
from bench.generate import customer_rows
from customers import duplicates
from customers.management.commands.setup_demo import SEED_EXAMPLE_BODY
from customers.models import Customer
from customers.search import SEARCHED_ATTRIBUTES
from organizations.models import Organization
from tests.factories import CustomerFactory


def test_the_floor_reads_only_real_columns_of_the_customer_table():
    columns = {field.column for field in Customer._meta.concrete_fields}

    assert set(floor.COLUMNS) <= columns
    assert set(floor.SEARCHED) <= columns


def test_generated_customers_are_the_same_for_the_same_seed_and_fit_the_model():
    organization = Organization(pk=1, name="bench-0001")

    first = list(customer_rows(7, organization, 3))

    assert first == list(customer_rows(7, organization, 3))
    assert first != list(customer_rows(8, organization, 3))
    assert {row["organization_id"] for row in first} == {1}
    attributes = {field.attname for field in Customer._meta.concrete_fields}
    assert set(first[0]) <= attributes


def test_the_floor_searches_the_expression_of_counterparts_search_index():
    migration = importlib.import_module("customers.migrations.0005_one_search_index")

    assert migration.DOCUMENT.replace('"', "") == floor._DOCUMENT


@pytest.mark.django_db
def test_the_peer_takes_the_benchmarks_put_body_and_writes_the_customer(tenant):
    from djangorestframework_camel_case.util import underscoreize

    from bench.peer.views import CustomerSerializer

    serializer = CustomerSerializer(tenant.customer, data=underscoreize(SEED_EXAMPLE_BODY))

    assert serializer.is_valid(), serializer.errors
    serializer.save()
    stored = Customer.objects.get(pk=tenant.customer.pk)
    assert stored.display_name == SEED_EXAMPLE_BODY["displayName"]
    assert stored.billing_address_postcode == SEED_EXAMPLE_BODY["billingAddressZipcode"]
    assert stored.organization_id == tenant.organization.pk


# DRF reads these settings into class attributes when its classes are defined; the peer's server
# defines them under the peer's settings, the test process under Counterpart's.
PEER_CLASS_SETTINGS = {
    APIView: {
        "renderer_classes": "DEFAULT_RENDERER_CLASSES",
        "parser_classes": "DEFAULT_PARSER_CLASSES",
        "authentication_classes": "DEFAULT_AUTHENTICATION_CLASSES",
        "throttle_classes": "DEFAULT_THROTTLE_CLASSES",
        "permission_classes": "DEFAULT_PERMISSION_CLASSES",
        "content_negotiation_class": "DEFAULT_CONTENT_NEGOTIATION_CLASS",
        "metadata_class": "DEFAULT_METADATA_CLASS",
        "versioning_class": "DEFAULT_VERSIONING_CLASS",
    },
    SearchFilter: {"search_param": "SEARCH_PARAM"},
}


@pytest.fixture
def peer_client(tenant, monkeypatch):
    """A client of the usual-DRF peer (bench/peer/), in process, with the peer's urls and DRF
    settings as its gunicorn server has them, holding `tenant`'s key."""
    from bench.peer import settings as peer_settings

    with override_settings(
        ROOT_URLCONF="bench.peer.urls", REST_FRAMEWORK=peer_settings.REST_FRAMEWORK
    ):
        for cls, attributes in PEER_CLASS_SETTINGS.items():
            for attribute, setting in attributes.items():
                monkeypatch.setattr(cls, attribute, getattr(api_settings, setting))
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {tenant.key}")
        yield api


def test_the_peer_answers_get_and_put_for_its_keys_organization_only(
    peer_client, tenant, other_tenant
):
    mine, theirs = tenant.customer, other_tenant.customer

    got = peer_client.get(f"/api/customers/{mine.pk}")
    put = peer_client.put(f"/api/customers/{mine.pk}", SEED_EXAMPLE_BODY, format="json")
    foreign_get = peer_client.get(f"/api/customers/{theirs.pk}")
    foreign_put = peer_client.put(f"/api/customers/{theirs.pk}", SEED_EXAMPLE_BODY, format="json")

    assert got.status_code == 200
    assert got.json()["displayName"] == mine.display_name
    assert got.json()["currencyCode"] == mine.currency_code
    assert put.status_code == 200, put.content
    assert put.json()["billingAddressPostcode"] == SEED_EXAMPLE_BODY["billingAddressZipcode"]
    stored = Customer.objects.get(pk=mine.pk)
    assert stored.display_name == SEED_EXAMPLE_BODY["displayName"]
    assert stored.shipping_address_postcode == SEED_EXAMPLE_BODY["shippingAddressZipcode"]
    assert stored.organization_id == tenant.organization.pk
    assert (foreign_get.status_code, foreign_put.status_code) == (404, 404)
    assert Customer.objects.get(pk=theirs.pk).display_name == theirs.display_name


def test_the_peer_refuses_an_unknown_key(peer_client, tenant):
    peer_client.credentials(HTTP_AUTHORIZATION="Bearer bc_not-a-key")

    answer = peer_client.get(f"/api/customers/{tenant.customer.pk}")

    assert answer.status_code in (401, 403)


def test_the_peer_lists_a_page_of_its_organizations_customers_newest_first_and_searches(
    peer_client, tenant, other_tenant
):
    older = CustomerFactory(organization=tenant.organization, display_name="Zebra Traders")
    newest = CustomerFactory(organization=tenant.organization, display_name="Yak Supplies")

    page = peer_client.get("/api/customers?page=1&pageSize=2")
    found = peer_client.get("/api/customers?page=1&pageSize=12&searchKeyword=zebra")
    foreign = peer_client.get(
        f"/api/customers?searchKeyword={other_tenant.customer.display_name.split()[0]}"
    )

    assert page.status_code == 200
    assert page.json()["count"] == 3
    assert [row["id"] for row in page.json()["results"]] == [newest.pk, older.pk]
    assert [row["displayName"] for row in found.json()["results"]] == ["Zebra Traders"]
    assert other_tenant.customer.pk not in [row["id"] for row in foreign.json()["results"]]


def test_the_peer_searches_the_columns_counterpart_searches():
    from bench.peer.views import CustomerViewSet

    assert set(CustomerViewSet.search_fields) == set(SEARCHED_ATTRIBUTES)


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_the_duplicates_benchmark_plants_pairs_the_report_finds():
    from bench import duplicates as bench

    organization = Organization.objects.create(
        name="bench-duplicates", base_currency="USD", phone_region=bench.REGION
    )
    rows, planted = bench.book(7, organization, 300, 0.1)
    low = bench.load(organization, rows)

    found = set(duplicates.pair_ids(organization))

    assert {kind for _, _, kind in planted} == set(bench.KINDS)
    assert all((low + original, low + twin) in found for original, twin, _ in planted)


BARE_STATE = """
import json
import bench.bare
from django.conf import settings
from customers import events, matching
from customers.api.views import CustomerViewSet
print(json.dumps({
    "signals": not matching.IDENTITY_ATTRIBUTES,
    "snapshot": events.snapshot.__module__ == "bench.bare",
    "health-check": settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is False,
    "rate-count": CustomerViewSet.throttle_classes == [],
}))
"""


@pytest.mark.parametrize(
    ("without", "off"),
    [
        (None, {"signals", "snapshot", "health-check", "rate-count"}),
        ("signals", {"signals"}),
        ("snapshot,rate-count", {"snapshot", "rate-count"}),
    ],
)
def test_the_bare_server_switches_off_the_parts_it_names_and_only_those(without, off):
    """bench/bare.py prices parts of Counterpart by switching them off in its own process: a part
    it failed to switch off would be priced at nothing. (Run apart: it changes the process.)"""
    environment = {
        **{name: value for name, value in os.environ.items() if not name.startswith("DJANGO_")},
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "bare-test-" + "k" * 50,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    }
    environment.pop("BARE_WITHOUT", None)
    if without is not None:
        environment["BARE_WITHOUT"] = without
    result = subprocess.run(  # noqa: S603 (this interpreter, fixed arguments)
        [sys.executable, "-c", BARE_STATE],
        cwd=Path(__file__).resolve().parents[1],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )

    state = json.loads(result.stdout)
    assert {part for part, switched_off in state.items() if switched_off} == off
