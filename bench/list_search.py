"""Customer list and search latency with 1,000,000 customers in one organization (PostgreSQL).

Usage (from the repository root, against a PostgreSQL database you may fill):

    createdb -h 127.0.0.1 -U postgres counterpart_api
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/counterpart_api
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/list_search.py [--customers 1000000] [--requests 60] [--explain]

The first run generates the customers with one INSERT … SELECT over generate_series per batch of
100,000 (no ORM row by row), then ANALYZEs; later runs reuse them. Each request goes through the
whole Django stack in-process with Django's test client: URL routing, API-key authentication,
parameter parsing, the queries, serialization and JSON rendering; no network, no HTTP server.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_DEBUG", "false")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from authkeys.services import api_key_create  # noqa: E402
from customers.models import Customer  # noqa: E402
from organizations.models import Organization  # noqa: E402

ORGANIZATION_NAME = "bench-list-search"
BATCH = 100_000
# Slow scenarios stop after this many seconds (and at least 5 requests).
TIME_PER_SCENARIO = 20
FIRST = (  # noqa: SIM905
    "James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth David Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Chris Nancy Daniel Lisa Matthew "
    "Betty Anthony Margaret Mark Sandra Donald Ashley Steven Kimberly Paul Emily Andrew Donna "
    "Joshua Michelle Kenneth Carol Kevin Amanda Brian Dorothy George Melissa Timothy Deborah"
).split()
LAST = (  # noqa: SIM905
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris "
    "Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill "
    "Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Acme Globex"
).split()
SUFFIX = "Ltd Inc LLC GmbH Traders Holdings Partners Group Supplies Logistics".split()  # noqa: SIM905

# SQL for the columns the benchmark fills with varied data; every other column gets its default.
GENERATED = {
    "organization_id": "%(organization)s",
    "customer_type": "CASE WHEN n %% 3 = 0 THEN 'individual' ELSE 'business' END",
    "first_name": "f",
    "last_name": "l",
    "company_name": "l || ' ' || s",
    "display_name": "f || ' ' || l || ' - ' || l || ' ' || s",
    "code": "'C' || lpad(n::text, 7, '0')",
    "email": "lower(f || '.' || l || n) || '@example.com'",
    "work_phone": "'+1 555 ' || lpad((n * 7919 %% 10000000)::text, 7, '0')",
    "active": "n %% 10 <> 0",
    "balance": "round((n * 7919 %% 1000000)::numeric / 100, 3)",
    "created_at": "timestamptz '2020-01-01' + n * interval '90 seconds'",
    "updated_at": "timestamptz '2020-01-01' + n * interval '90 seconds'",
    "currency_code": "'USD'",
}

SCENARIOS = [
    ("list, default sort (createdAt DESC)", ""),
    ("list, displayName ASC", "&columnSortBy=displayName&sortOrder=ASC"),
    ("list, balance DESC", "&columnSortBy=balance&sortOrder=DESC"),
    ("list, inactiveMode=true", "&inactiveMode=true"),
    ("list, page 1000", "&page=1000"),
    ("list, email ASC (no index for this sort)", "&columnSortBy=email&sortOrder=ASC"),
    ("search a code 'C0123456'", "&searchKeyword=C0123456"),
    ("search an email 'mary.lopez47'", "&searchKeyword=mary.lopez47"),
    ("search 'johnson12' (old rows)", "&searchKeyword=johnson12"),
    ("search 'johnson12', displayName ASC", "&searchKeyword=johnson12&columnSortBy=displayName"),
    ("search a phone '555 00123'", "&searchKeyword=555 00123"),
    ("search 'globex' (2% of rows)", "&searchKeyword=globex"),
    ("search 'ar' (2 letters: no trigram)", "&searchKeyword=ar"),
]


def organization_with_customers(count: int) -> Organization:
    organization, _ = Organization.objects.get_or_create(
        name=ORGANIZATION_NAME, defaults={"base_currency": "USD"}
    )
    have = Customer.objects.filter(organization=organization).count()
    if have >= count:
        return organization
    columns, values, params = [], [], {"organization": organization.pk}
    for field in Customer._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(field.column)
        if field.column in GENERATED:
            values.append(GENERATED[field.column])
        elif field.has_default():
            params[field.column] = field.get_db_prep_value(field.get_default(), connection)
            values.append(f"%({field.column})s")
        else:
            values.append("NULL")
    sql = (
        f"INSERT INTO {Customer._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM ("
        "  SELECT n, (%(first)s::text[])[1 + (n * 31 %% %(nf)s)] AS f,"
        "  (%(last)s::text[])[1 + (n * 17 / 7 %% %(nl)s)] AS l,"
        "  (%(suffix)s::text[])[1 + (n %% %(ns)s)] AS s"
        "  FROM generate_series(%(start)s::bigint, %(stop)s) AS n"
        ") AS g"
    )
    params |= {
        "first": FIRST,
        "nf": len(FIRST),
        "last": LAST,
        "nl": len(LAST),
        "suffix": SUFFIX,
        "ns": len(SUFFIX),
    }
    started = time.perf_counter()
    for start in range(have + 1, count + 1, BATCH):
        with connection.cursor() as cursor:
            cursor.execute(sql, {**params, "start": start, "stop": min(start + BATCH - 1, count)})
        print(f"  {min(start + BATCH - 1, count):>9,} customers", flush=True)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {Customer._meta.db_table}")
    print(f"generated {count - have:,} customers in {time.perf_counter() - started:.0f} s")
    return organization


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure(api: APIClient, query: str, requests: int) -> tuple[float, float, int, dict]:
    url = f"/api/customers?pageSize=12{query}"
    for _ in range(3):
        response = api.get(url)
    assert response.status_code == 200, response.content
    samples = []
    deadline = time.perf_counter() + TIME_PER_SCENARIO
    while len(samples) < requests and (len(samples) < 5 or time.perf_counter() < deadline):
        started = time.perf_counter()
        api.get(url)
        samples.append((time.perf_counter() - started) * 1000)
    p50, p99 = statistics.median(samples), percentile(samples, 0.99)
    return p50, p99, len(samples), response.json()["pagination"]


def explain(api: APIClient, query: str) -> None:
    with CaptureQueriesContext(connection) as captured:
        api.get(f"/api/customers?pageSize=12{query}")
    for statement in captured.captured_queries:
        if Customer._meta.db_table not in statement["sql"]:
            continue  # authentication
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement["sql"])
            print("\n" + statement["sql"])
            print("\n".join(row[0] for row in cursor.fetchall()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=60, help="timed requests per scenario")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of search")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Point DATABASE_URL at PostgreSQL: this benchmark is about its indexes.")
    setup_test_environment()
    organization = organization_with_customers(args.customers)
    api = APIClient()
    api.credentials(
        HTTP_AUTHORIZATION=f"Bearer {api_key_create(organization=organization, name='bench').key}"
    )
    print("\n| request (page of 12) | p50 ms | p99 ms | requests | total |")
    print("|---|---|---|---|---|")
    for label, query in SCENARIOS:
        p50, p99, timed, page = measure(api, query, args.requests)
        print(f"| {label} | {p50:.1f} | {p99:.1f} | {timed} | {page['total']:,} |", flush=True)
    if args.explain:
        explain(api, "&searchKeyword=johnson12")
        explain(api, "&searchKeyword=globex")


if __name__ == "__main__":
    main()
