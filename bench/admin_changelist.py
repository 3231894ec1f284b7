"""Back-office customer pages with 1,000,000 customers (PostgreSQL): list, search, filters, page
far away, dashboard; for a superuser (every organization) and a staff member of one.

Usage (from the repository root, against a PostgreSQL database you may fill):

    createdb -h 127.0.0.1 -U postgres counterpart_admin
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/counterpart_admin
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/admin_changelist.py [--customers 1000000] [--requests 15] [--explain]

The first run generates the customers with INSERT … SELECT over generate_series (990,000 in one
organization, 10,000 in another) and ANALYZEs; later runs reuse them. The search index comes from
the migrations, so search is measured as it runs in production. Each page goes through the whole
Django stack in-process (test client).
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

from django.contrib.auth.models import Permission  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from customers.models import Customer  # noqa: E402
from organizations.models import Membership, Organization, User  # noqa: E402

BATCH = 100_000
TABLE = Customer._meta.db_table
ORGANIZATIONS = {"bench-admin-big": 0.99, "bench-admin-small": 0.01}
GENERATED = {
    "customer_type": "CASE WHEN n % 3 = 0 THEN 'individual' ELSE 'business' END",
    "display_name": "'Customer ' || n",
    "company_name": "'Company ' || (n % 50000)",
    "first_name": "'First' || (n % 997)",
    "last_name": "'Last' || (n % 1009)",
    "email": "'c' || n || '@example.com'",
    "work_phone": "'+1 555 ' || lpad((n * 7919 % 10000000)::text, 7, '0')",
    "code": "'C' || lpad(n::text, 7, '0')",
    "currency_code": "(ARRAY['USD','EUR','GBP'])[1 + n % 3]",
    "balance": "round((n * 7919 % 1000000)::numeric / 100, 3)",
    "active": "n % 10 <> 0",
    "created_at": "timestamptz '2020-01-01' + n * interval '90 seconds'",
    "updated_at": "timestamptz '2020-01-01' + n * interval '90 seconds'",
}
PAGES = [
    ("list, first page", "/admin/customers/customer/"),
    ("list, page 2000", "/admin/customers/customer/?p=2000"),
    ("list, sorted by display name", "/admin/customers/customer/?o=1"),
    ("filter inactive", "/admin/customers/customer/?active__exact=0"),
    ("filter currency EUR", "/admin/customers/customer/?currency_code=EUR"),
    ("search a code 'C0123456'", "/admin/customers/customer/?q=C0123456"),
    ("search an email fragment 'c77777@'", "/admin/customers/customer/?q=c77777%40"),
    ("search 'Company 4242'", "/admin/customers/customer/?q=Company+4242"),
    ("search 'company' (every row)", "/admin/customers/customer/?q=company"),
    ("change form", None),
    ("dashboard (admin index), figures cached", "/admin/"),
    ("dashboard (admin index), cache cleared first", "/admin/"),
]


def generate(count: int) -> None:
    bench_customers = Customer.objects.filter(organization__name__in=ORGANIZATIONS)
    if bench_customers.count() >= count:
        return
    with connection.cursor() as cursor:  # an interrupted earlier run: start over
        cursor.execute(
            f"DELETE FROM {TABLE} WHERE organization_id IN "
            "(SELECT id FROM organizations_organization WHERE name = ANY(%s))",
            [list(ORGANIZATIONS)],
        )
    started, first = time.perf_counter(), 1
    for name, share in ORGANIZATIONS.items():
        organization, _ = Organization.objects.get_or_create(
            name=name, defaults={"base_currency": "USD"}
        )
        last = first + int(count * share) - 1
        columns = ["organization_id", *GENERATED, "salutation", "personal_phone", "website"]
        columns += [f.column for f in Customer._meta.concrete_fields if "address" in f.column]
        defaults = ["''"] * (len(columns) - len(GENERATED) - 1)
        values = [str(organization.pk), *GENERATED.values(), *defaults]
        for start in range(first, last + 1, BATCH):
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {TABLE} ({', '.join(columns)}, note, opening_balance, "
                    "opening_balance_exchange_rate, version) "
                    f"SELECT {', '.join(values)}, '', 0, 1, 1 "
                    f"FROM generate_series({start}::bigint, {min(start + BATCH - 1, last)}) AS n"
                )
        first = last + 1
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {TABLE}")
    print(f"generated {count:,} customers in {time.perf_counter() - started:.0f} s")


def analyze() -> None:
    """Statistics on the search index's expression (customers/0005) are what let the planner tell
    a rare search term from a common one; ANALYZE gathers them."""
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {TABLE}")


def browsers() -> dict[str, Client]:
    superuser, _ = User.objects.get_or_create(
        email="bench-superuser@example.com", defaults={"is_staff": True, "is_superuser": True}
    )
    staff, _ = User.objects.get_or_create(
        email="bench-staff@example.com", defaults={"is_staff": True}
    )
    staff.user_permissions.set(Permission.objects.filter(content_type__app_label="customers"))
    Membership.objects.get_or_create(
        user=staff, organization=Organization.objects.get(name="bench-admin-big")
    )
    clients = {}
    for label, user in (("superuser (all organizations)", superuser), ("staff of one", staff)):
        clients[label] = Client()
        clients[label].force_login(user)
    return clients


def measure(browser: Client, url: str, requests: int, cold: bool) -> tuple[float, int, float]:
    response = browser.get(url)
    assert response.status_code == 200, (url, response.status_code)
    samples = []
    for _ in range(requests):
        if cold:
            cache.clear()
        started = time.perf_counter()
        browser.get(url)
        samples.append((time.perf_counter() - started) * 1000)
    if cold:
        cache.clear()
    with CaptureQueriesContext(connection) as captured:
        browser.get(url)
    slowest = max(float(query["time"]) for query in captured.captured_queries) * 1000
    return statistics.median(samples), len(captured.captured_queries), slowest


def explain(browser: Client, url: str) -> None:
    with CaptureQueriesContext(connection) as captured:
        browser.get(url)
    for statement in captured.captured_queries:
        if TABLE in statement["sql"] and not statement["sql"].startswith("EXPLAIN"):
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement["sql"])
                print("\n" + statement["sql"][:300])
                print("\n".join(row[0] for row in cursor.fetchall()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=15, help="timed requests per page")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of the list")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Point DATABASE_URL at PostgreSQL: this benchmark is about its plans.")
    setup_test_environment()
    connection.force_debug_cursor = True  # record query times for the "slowest query" column
    generate(args.customers)
    analyze()
    sample = Customer.objects.filter(organization__name="bench-admin-big").order_by("pk").first()
    print("\n| page | who | p50 ms | queries | slowest query ms |")
    print("|---|---|---|---|---|")
    for who, browser in browsers().items():
        for label, url in PAGES:
            url = url or f"/admin/customers/customer/{sample.pk}/change/"
            p50, queries, slowest = measure(browser, url, args.requests, "cleared" in label)
            print(f"| {label} | {who} | {p50:.1f} | {queries} | {slowest:.1f} |", flush=True)
        if args.explain:
            explain(browser, "/admin/customers/customer/")


if __name__ == "__main__":
    main()
