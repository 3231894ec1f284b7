"""Smoke tests of bench/ (the benchmarks themselves are run by hand, see docs/performance.md)."""

import importlib

import pytest

from bench import floor
from bench.generate import customer_rows
from customers.management.commands.setup_demo import SEED_EXAMPLE_BODY
from customers.models import Customer
from organizations.models import Organization


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
