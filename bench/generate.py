"""Bench data: N organizations of M customers each, the same rows for a seed, loaded by COPY.

    DATABASE_URL=postgres://… .venv/bin/python bench/generate.py --organizations 100 \
        --customers 10000

Runs against a migrated PostgreSQL database. Earlier bench organizations (named "bench-…") and
everything they own are deleted first. One API key per organization is issued through
authkeys.services (only its digest is stored); the plaintext keys, each organization's customer
id range, the search words and the PUT body (the reference page's example, from setup_demo) go
to bench/out/, which the wrk script bench/wrk/scenario.lua reads.
"""

import argparse
import json
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402

from authkeys.services import api_key_create  # noqa: E402
from customers.management.commands.setup_demo import SEED_EXAMPLE_BODY  # noqa: E402
from customers.models import Customer  # noqa: E402
from organizations.models import Organization  # noqa: E402

OUT = BENCH / "out"
PREFIX = "bench-"
MAX_ROWS = 1_000_000
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
FIRST = ["Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tim"]
LAST = [
    "Lovelace",
    "Turing",
    "Hopper",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Allen",
    "Thompson",
    "Perlman",
    "Berners",
    "Hamilton",
    "Ritchie",
    "Kernighan",
    "Wirth",
    "Backus",
    "Floyd",
]
COMPANY = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne"]
CITIES = ["New York", "Berlin", "Lagos", "Lima", "Osaka", "Cairo", "Oslo", "Perth"]


def customer_row(rng: random.Random, organization_id: int, number: int) -> dict:
    first, last, company = rng.choice(FIRST), rng.choice(LAST), rng.choice(COMPANY)
    created = EPOCH + timedelta(seconds=number * 37 + rng.randrange(30))
    opening = Decimal(rng.randrange(0, 500_000)) / 100 if rng.random() < 0.3 else Decimal(0)
    return {
        "organization_id": organization_id,
        "customer_type": rng.choice(("business", "individual")),
        "display_name": f"{first} {last} - {company} {number}",
        "code": f"C{number:07d}" if rng.random() < 0.8 else None,
        "first_name": first,
        "last_name": last,
        "company_name": f"{company} {rng.choice(('Ltd', 'Inc', 'GmbH', 'SA'))}",
        "email": f"{first}.{last}.{number}@example.com".lower(),
        "work_phone": f"+1 555 {rng.randrange(10**7):07d}",
        "billing_address_city": rng.choice(CITIES),
        "shipping_address_city": rng.choice(CITIES),
        "active": rng.random() < 0.9,
        "currency_code": "USD",
        "opening_balance": opening,
        "opening_balance_at": EPOCH if opening else None,
        "balance": opening,
        "created_at": created,
        "updated_at": created,
    }


def customer_rows(seed: int, organization: Organization, count: int):
    """The organization's `count` customers: the same rows for the same seed and name."""
    rng = random.Random(f"{seed}:{organization.name}")
    for number in range(1, count + 1):
        yield customer_row(rng, organization.pk, number)


def delete_bench_organizations() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT array_agg(id) FROM organizations_organization WHERE name LIKE %s",
            [PREFIX + "%"],
        )
        (ids,) = cursor.fetchone()
        if not ids:
            return
        cursor.execute(
            "DELETE FROM customers_importuploadpart WHERE upload_id IN (SELECT id FROM "
            "customers_importupload WHERE organization_id = ANY(%s))",
            [ids],
        )
        for table in (
            "customers_customerchange",
            "customers_customersignal",
            "customers_customermerge",
            "customers_eventcounter",
            "customers_importupload",
            "customers_customer",
            "authkeys_apikey",
        ):
            cursor.execute(f"DELETE FROM {table} WHERE organization_id = ANY(%s)", [ids])
        cursor.execute("DELETE FROM organizations_organization WHERE id = ANY(%s)", [ids])


def copy_customers(organizations: list[Organization], per_organization: int, seed: int) -> None:
    # Every concrete column but the id, with the model's own default where the row gives none.
    fields = [field for field in Customer._meta.concrete_fields if not field.primary_key]
    columns = ", ".join(field.column for field in fields)
    defaults = {field.attname: field.get_default() for field in fields}
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(f"COPY customers_customer ({columns}) FROM STDIN") as copy:
            for organization in organizations:
                for generated in customer_rows(seed, organization, per_organization):
                    row = {**defaults, **generated}
                    copy.write_row([row[field.attname] for field in fields])
        cursor.execute("ANALYZE customers_customer")


def write_tenants(keys: dict[int, str]) -> Path:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT organization_id, min(id), max(id), count(*) FROM customers_customer"
            " WHERE organization_id = ANY(%s) GROUP BY organization_id ORDER BY organization_id",
            [list(keys)],
        )
        ranges = cursor.fetchall()
    OUT.mkdir(exist_ok=True)
    lines = []
    for organization_id, low, high, count in ranges:
        if high - low + 1 != count:
            raise SystemExit(f"customer ids of organization {organization_id} are not contiguous")
        lines.append(f"{keys[organization_id]}\t{organization_id}\t{low}\t{high}\n")
    path = OUT / "tenants.tsv"
    path.write_text("".join(lines))
    (OUT / "keywords.txt").write_text("".join(f"{word.lower()}\n" for word in LAST))
    (OUT / "put_body.json").write_text(json.dumps(put_body_template()))
    return path


def put_body_template() -> dict:
    """The reference page's body, every text value marked with {n}, which the benchmarks replace
    with a number of their own per request (bench/wrk/scenario.lua, bench/profile_put.py).

    With the same body every time, a customer edited once would be edited to what it already
    holds the next time: a PUT that changes nothing, which Counterpart answers without writing
    (the floor writes anyway). Later runs would then measure cheaper PUTs than earlier ones on
    the same data. Marked, every PUT changes every text field, on every run.
    """
    body = {}
    for name, value in SEED_EXAMPLE_BODY.items():
        if not isinstance(value, str) or name == "customerType":
            body[name] = value
        elif "@" in value:
            local, _, domain = value.partition("@")
            body[name] = f"{local}+{{n}}@{domain}"
        else:
            body[name] = f"{value} {{n}}"
    return body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--organizations", type=int, default=100)
    parser.add_argument("--customers", type=int, default=10_000, help="customers per organization")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Set DATABASE_URL to a migrated PostgreSQL database.")
    if args.organizations * args.customers > MAX_ROWS:
        raise SystemExit(f"At most {MAX_ROWS} customers in total.")

    started = time.monotonic()
    with transaction.atomic():
        delete_bench_organizations()
        organizations = [
            Organization.objects.create(name=f"{PREFIX}{number:04d}", base_currency="USD")
            for number in range(args.organizations)
        ]
        keys = {
            organization.pk: api_key_create(organization=organization, name="bench").key
            for organization in organizations
        }
        copy_customers(organizations, args.customers, args.seed)
    path = write_tenants(keys)
    total = args.organizations * args.customers
    print(
        f"{total} customers in {args.organizations} organizations in "
        f"{time.monotonic() - started:.1f} s; keys and id ranges in {path}"
    )


if __name__ == "__main__":
    main()
