"""What PostgreSQL alone spends per imported row, index by index: the floor under any import.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/counterpart_import \
        .venv/bin/python bench/import_floor.py [--rows 200000]

No Django request, no validation, no staging: N rows shaped like bench/import_customers.py's
file sit in an UNLOGGED source table, and one `INSERT … SELECT` copies them into a table built
`LIKE customers_customer`, first with its primary key only, then with each further index of the
real table added (their definitions read from pg_indexes, so this follows the migrations), then
with the history rows an import writes (a `LIKE customers_customerchange` table with its indexes,
the same JSON per row), and last with both tables' foreign keys. Each step is timed by the server
backend's own CPU clock (read from /proc, so run it on the database's host), which the other work
on a shared machine barely moves; wall time is printed beside it. Everything it creates is
dropped at the end.
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from organizations.models import Organization  # noqa: E402

SOURCE, TARGET, HISTORY = "bench_floor_source", "bench_floor_customers", "bench_floor_history"
CUSTOMERS, CHANGES = "customers_customer", "customers_customerchange"
COLUMNS = (
    "id, organization_id, customer_type, display_name, code, salutation, first_name, last_name, "
    "company_name, email, work_phone, personal_phone, website, billing_address_1, "
    "billing_address_2, billing_address_city, billing_address_country, billing_address_email, "
    "billing_address_postcode, billing_address_phone, billing_address_state, shipping_address_1, "
    "shipping_address_2, shipping_address_city, shipping_address_country, "
    "shipping_address_email, shipping_address_postcode, shipping_address_phone, "
    "shipping_address_state, note, active, currency_code, opening_balance, "
    "opening_balance_exchange_rate, balance, version, created_at, updated_at"
)
ROW = (
    "n, {organization}, 'business', 'First' || n % 10000 || ' Last' || n % 100000 || ' #' || n, "
    "'C' || lpad(n::text, 7, '0'), '', 'First' || n % 10000, 'Last' || n % 100000, "
    "'Company ' || n % 50000, 'first' || n % 10000 || '.last' || n % 100000 || '.' || n "
    "|| '@example.com', '+1 555 ' || lpad((n * 7919 % 10000000)::text, 7, '0'), '', '', "
    "n % 999 || ' Main Street', '', 'Oslo', 'Country', '', lpad((n % 100000)::text, 5, '0'), "
    "'', '', '', '', '', '', '', '', '', '', '', true, 'USD', (n % 1000) / 100.0, 1, "
    "(n % 1000) / 100.0, 1, now(), now()"
)
# What an import's history row holds for a created customer: [null, value] per imported column.
HISTORY_ROW = (
    "organization_id, id, display_name, 'create', 'import', NULL, NULL, ("
    """'{"customerType":[null,' || to_json(customer_type)::text || '],"""
    """"displayName":[null,' || to_json(display_name)::text || '],"""
    """"code":[null,' || to_json(code)::text || '],"""
    """"email":[null,' || to_json(email)::text || '],"""
    """"firstName":[null,' || to_json(first_name)::text || '],"""
    """"lastName":[null,' || to_json(last_name)::text || '],"""
    """"companyName":[null,' || to_json(company_name)::text || '],"""
    """"workPhone":[null,' || to_json(work_phone)::text || '],"""
    """"currencyCode":[null,' || to_json(currency_code)::text || '],"""
    """"openingBalance":[null,' || trim_scale(opening_balance)::text || ']}')::jsonb, now()"""
)


def backend_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def indexes(cursor, table: str, copy: str) -> list[tuple[str, str]]:
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT LIKE "
        "'%%pkey' ORDER BY indexdef LIKE '%%USING gin%%', indexname",
        [table],
    )
    return [
        (name, definition.replace(f" {name} ", f" {copy}_{name} ").replace(table, copy))
        for name, definition in cursor.fetchall()
    ]


def foreign_keys(cursor, table: str, copy: str) -> list[str]:
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
        [table],
    )
    return [
        f"ALTER TABLE {copy} ADD CONSTRAINT {copy}_{number} {definition}"
        for number, (_, definition) in enumerate(cursor.fetchall())
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Run it on PostgreSQL: set DATABASE_URL.")
    rows = args.rows
    organization = Organization.objects.create(name="bench-import-floor", base_currency="USD")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        [pid] = cursor.fetchone()

        def timed(label: str, sql: str) -> None:
            cpu, wall = backend_seconds(pid), time.perf_counter()
            cursor.execute(sql)
            cpu, wall = backend_seconds(pid) - cpu, time.perf_counter() - wall
            print(f"| {label} | {cpu:.1f} | {cpu / rows * 1e6:.0f} | {wall:.1f} |")

        try:
            cursor.execute(f"CREATE UNLOGGED TABLE {SOURCE} AS SELECT * FROM {CUSTOMERS} LIMIT 0")
            cursor.execute(
                f"INSERT INTO {SOURCE} ({COLUMNS}) "
                f"SELECT {ROW.format(organization=int(organization.pk))} "
                f"FROM generate_series(1, {rows}) n"
            )
            cursor.execute(f"ANALYZE {SOURCE}")
            cursor.execute(f"CREATE TABLE {TARGET} (LIKE {CUSTOMERS} INCLUDING DEFAULTS)")
            cursor.execute(f"ALTER TABLE {TARGET} ADD PRIMARY KEY (id)")
            print(f"{rows:,} rows, one INSERT … SELECT each, PostgreSQL backend CPU\n")
            print("| customers table with | backend CPU s | µs per row | wall s |")
            print("|---|---:|---:|---:|")
            insert = f"INSERT INTO {TARGET} SELECT * FROM {SOURCE}"
            timed("primary key only", insert)
            built = []
            for name, definition in indexes(cursor, CUSTOMERS, TARGET):
                cursor.execute(f"TRUNCATE {TARGET}")
                cursor.execute(definition)
                built.append(name)
                timed(f"+ {name}", insert)
            cursor.execute(f"CREATE TABLE {HISTORY} (LIKE {CHANGES} INCLUDING ALL)")
            for _, definition in indexes(cursor, CHANGES, HISTORY):
                cursor.execute(definition.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS"))
            cursor.execute(f"TRUNCATE {TARGET}")
            columns = (
                "organization_id, customer_id, customer_display_name, action, door, "
                "actor_user_id, actor_api_key_id, changes, created_at"
            )
            with_history = (
                f"WITH created AS ({insert} RETURNING *) INSERT INTO {HISTORY} ({columns}) "
                f"SELECT {HISTORY_ROW} FROM created"
            )
            timed("all of the above + a history row each (as an import writes them)", with_history)
            for table, copy in ((CUSTOMERS, TARGET), (CHANGES, HISTORY)):
                for statement in foreign_keys(cursor, table, copy):
                    cursor.execute(statement)
            cursor.execute(f"TRUNCATE {TARGET}, {HISTORY}")
            timed("all of the above + the foreign keys, checked at commit", with_history)
        finally:
            cursor.execute(f"DROP TABLE IF EXISTS {SOURCE}, {TARGET}, {HISTORY}")
            organization.delete()


if __name__ == "__main__":
    main()
