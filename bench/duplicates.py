"""The duplicate report on a big book: time to its first page, and recall of planted duplicates.

    DATABASE_URL=postgres://… .venv/bin/python bench/duplicates.py --customers 1000000 \
        --share 0.02

Runs against a migrated PostgreSQL database, best a fresh one: deleting the bench organizations a
previous run left (its first step) takes longer than loading a million customers. Makes one
organization ("bench-duplicates", deleted with the other bench organizations by
bench/generate.py) of `--customers` customers from bench/generate.py's rows, then plants
duplicates of a `--share` of them, each one of three kinds: the same e-mail in other letter case
("email"), the same phone written another way and the same name in other case and punctuation
("phone"), or the same name only ("name"). Customers and their identity signals are loaded by COPY
(the signals computed by customers/matching.py, as the services would), and the report's pairs
are built once (customers/duplicates.py's rebuild, as after a large import). Then it times
`GET /api/customers/duplicates`'s first page (the service call, without HTTP) three times, then
after each of three e-mail edits of customers through the services (the page first catches up
with the edit), and counts how many planted pairs the whole report holds.
"""

import argparse
import random
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from django.db import connection, transaction

# bench.generate sets Django up (config.settings.local) before the models below are imported.
from bench.generate import PREFIX, customer_rows, delete_bench_organizations
from common.actors import Actor, Door
from customers import duplicates, matching, services
from customers.models import Customer
from organizations.models import Organization

NAME = f"{PREFIX}duplicates"
REGION = "US"
KINDS = ("email", "phone", "name")
FIELDS = [field for field in Customer._meta.concrete_fields if not field.primary_key]
DEFAULTS = {field.attname: field.get_default() for field in FIELDS}


def duplicate_of(row: dict, kind: str) -> dict:
    """Another customer record of the same customer, as a second person would type it."""
    twin = {**row, "code": None, "email": "", "work_phone": ""}
    twin["display_name"] = f"{row['display_name'].upper()}."
    if kind == "email":
        twin["email"] = row["email"].upper()
    elif kind == "phone":
        digits = "".join(c for c in row["work_phone"] if c.isdigit())[1:]  # without the +1
        twin["work_phone"] = f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    return twin


def book(seed: int, organization: Organization, count: int, share: float):
    """The organization's rows in insertion order, and the planted pairs by row index."""
    rng = random.Random(f"{seed}:planted")
    rows, planted = [], []
    for index, row in enumerate(customer_rows(seed, organization, count)):
        rows.append(row)
        if rng.random() < share:
            planted.append((index, rng.choice(KINDS)))
    pairs = []
    for index, kind in planted:
        rows.append(duplicate_of(rows[index], kind))
        pairs.append((index, len(rows) - 1, kind))
    return rows, pairs


def load(organization: Organization, rows: list[dict]) -> int:
    """COPY the customers and their signals; the first customer's id."""
    columns = ", ".join(field.column for field in FIELDS)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY customers_customer ({columns}) FROM STDIN") as copy:
            for row in rows:
                values = {**DEFAULTS, **row}
                copy.write_row([values[field.attname] for field in FIELDS])
        cursor.execute(
            "SELECT min(id), max(id), count(*) FROM customers_customer WHERE organization_id = %s",
            [organization.pk],
        )
        low, high, count = cursor.fetchone()
        if high - low + 1 != count:
            raise SystemExit("customer ids are not contiguous: run it alone")
        # Statistics first: the signals' foreign keys are checked at commit by a plan made then,
        # which on a table the planner believes empty scans a million rows per signal.
        cursor.execute("ANALYZE customers_customer")
        with raw.copy(
            "COPY customers_customersignal (organization_id, customer_id, kind, value) FROM STDIN"
        ) as copy:
            for offset, row in enumerate(rows):
                customer = SimpleNamespace(**{**DEFAULTS, **row})
                for kind, value in sorted(matching.signals(customer, REGION)):
                    copy.write_row([organization.pk, low + offset, kind, value])
    duplicates.ask_for_rebuild(organization.pk)
    return low


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--share", type=float, default=0.02, help="customers given a duplicate")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Set DATABASE_URL to a migrated PostgreSQL database.")

    started = time.monotonic()
    with transaction.atomic():
        delete_bench_organizations()
        organization = Organization.objects.create(
            name=NAME, base_currency="USD", phone_region=REGION
        )
        rows, planted = book(args.seed, organization, args.customers, args.share)
        low = load(organization, rows)
    # As autovacuum would leave them: statistics, and the visibility map an index-only scan needs.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) customers_customer")
        cursor.execute("VACUUM (ANALYZE) customers_customersignal")
    print(
        f"{len(rows)} customers, {len(planted)} planted pairs, loaded in "
        f"{time.monotonic() - started:.1f} s",
        file=sys.stderr,
    )

    started = time.monotonic()
    duplicates.catch_up(organization.pk)
    print(f"pairs built in {time.monotonic() - started:.2f} s", file=sys.stderr)

    def first_page() -> tuple[float, duplicates.PairPage]:
        started = time.monotonic()
        page = duplicates.pairs(organization, page=1, page_size=12)
        return time.monotonic() - started, page

    timings = [first_page() for _ in range(3)]
    after_edit = []
    actor = Actor(door=Door.COMMAND)
    for number in range(3):
        edited = low + len(rows) // 2 + number
        services.customer_update(
            organization=organization,
            customer_id=edited,
            changes={"email": f"edited-{number}@duplicates.example"},
            actor=actor,
        )
        after_edit.append(first_page())
    page = timings[0][1]
    found = set(duplicates.pair_ids(organization))
    by_kind = {kind: [0, 0] for kind in KINDS}
    for original, twin, kind in planted:
        by_kind[kind][1] += 1
        by_kind[kind][0] += (low + original, low + twin) in found
    runs = ", ".join(f"{seconds * 1000:.1f}" for seconds, _ in timings)
    edits = ", ".join(f"{seconds * 1000:.1f}" for seconds, _ in after_edit)
    print(f"first page: {runs} ms, three times ({page.total} pairs in the report)")
    print(f"first page after an e-mail edit: {edits} ms, three times")
    for kind, (hit, total) in by_kind.items():
        print(f"recall, {kind}: {hit}/{total} ({hit / max(total, 1):.1%})")


if __name__ == "__main__":
    main()
