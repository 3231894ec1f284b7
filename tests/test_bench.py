"""Smoke tests of bench/ (the benchmarks themselves are run by hand, see docs/performance.md)."""

import importlib

from bench import floor
from bench.generate import customer_rows
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
