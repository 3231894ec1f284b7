"""Import benchmark: a generated N-row CSV through import_customers, against a bare COPY.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/counterpart_import \
        .venv/bin/python bench/import_customers.py --rows 1000000

1. Writes a reproducible CSV (`--seed`) of N customers with 16 columns.
2. Runs `manage.py import_customers` on it in a child process, with full validation, into a
   fresh organization; times it and reads the child's peak RSS from getrusage(RUSAGE_CHILDREN).
   With --upsert-again, imports it a second time with --mode upsert (every row unchanged).
3. Times a bare psycopg `COPY … FROM STDIN (FORMAT csv)` of the same file into a plain table of
   text columns: the floor no validating import can beat. Reports our rate as a fraction of it.
4. Times reading and validating the same file with no database work at all (the import's own
   row loop, its staging sink replaced by a no-op): how much of the time is Python's.
5. With --stages, imports the file once more in this process, into a second organization,
   timing the row loop (read, validate, COPY to staging), each SQL statement over 0.2 s and the
   rest (mostly COMMIT, where PostgreSQL runs the deferred foreign-key checks of every row).
6. Deletes what it made (the organizations' customers and history, the plain table).
"""

import argparse
import csv
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from organizations.models import Organization  # noqa: E402

HEADER = [
    "customerType", "displayName", "code", "email", "firstName", "lastName", "companyName",
    "workPhone", "billingAddress1", "billingAddressCity", "billingAddressCountry",
    "billingAddressZipcode", "currencyCode", "openingBalance", "openingBalanceAt", "active",
]  # fmt: skip
CITIES = ["Lisbon", "Oslo", "New York", "Zürich", "Kyoto", "Lagos", "Lima", "Perth"]
CURRENCIES = ["USD", "EUR", "GBP", "JPY", "NOK"]


def generate(path: Path, rows: int, seed: int) -> None:
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for number in range(rows):
            first, last = f"First{rng.randrange(10_000)}", f"Last{rng.randrange(100_000)}"
            balance = rng.choice(["0", f"{rng.randrange(-(10**6), 10**7) / 100:.2f}"])
            writer.writerow([
                rng.choice(["business", "individual"]), f"{first} {last} #{number}",
                f"C{number:07d}", f"{first}.{last}.{number}@example.com".lower(), first, last,
                f"Company {rng.randrange(50_000)}", f"+1 555 {rng.randrange(10**7):07d}",
                f"{rng.randrange(1, 999)} Main Street", rng.choice(CITIES), "Country",
                f"{rng.randrange(10**5):05d}", rng.choice(CURRENCIES), balance,
                "2024-01-01" if balance != "0" else "", rng.choice(["true", "false", ""]),
            ])  # fmt: skip


def run_import(path: Path, organization: Organization, *options) -> tuple[float, float, str]:
    started = time.perf_counter()
    finished = subprocess.run(
        [sys.executable, "manage.py", "import_customers", str(path), "--organization",
         str(organization.pk), *options],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if finished.returncode:
        sys.exit(f"import failed:\n{finished.stdout}\n{finished.stderr}")
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    summary = next(line for line in finished.stdout.splitlines() if " rows in " in line)
    return seconds, peak_mb, summary


def bare_copy(path: Path) -> float:
    columns = ", ".join(f'"{name}" text' for name in HEADER)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_bare_copy")
        cursor.execute(f"CREATE TABLE bench_bare_copy ({columns})")
    started = time.perf_counter()
    copy_sql = "COPY bench_bare_copy FROM STDIN (FORMAT csv, HEADER true)"
    with connection.cursor() as cursor, path.open("rb") as source, cursor.copy(copy_sql) as copy:
        while chunk := source.read(1 << 20):
            copy.write(chunk)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_bare_copy")
    return seconds


def validate_only(path: Path) -> float:
    from customers.importing.cells import resolve_columns
    from customers.importing.readers import open_source
    from customers.importing.service import ImportResult, _ErrorsFile, _read_rows
    from customers.importing.staging import Staging

    started = time.perf_counter()
    with path.open("rb") as stream:
        source = open_source(stream, "csv")
        columns = resolve_columns(source.header, mode="create", match="code", ignore_unknown=False)
        positions = [index for index, spec in enumerate(columns) if spec is not None]
        staging = Staging(fields=[columns[i] for i in positions], organization_id=0, match="code")
        errors = _ErrorsFile(None, source.header, columns)
        _read_rows(source, staging, positions, ImportResult(), errors, lambda row: None, None)
    return time.perf_counter() - started


def stages(path: Path, organization: Organization) -> list[tuple[float, str]]:
    from django.db.backends.utils import CursorWrapper

    from common.actors import Actor, Door
    from customers.importing import service

    timed, execute, read_rows = [], CursorWrapper.execute, service._read_rows

    def timed_execute(self, sql, params=None):
        started = time.perf_counter()
        try:
            return execute(self, sql, params)
        finally:
            timed.append((time.perf_counter() - started, " ".join(sql.split())[:70]))

    def timed_read_rows(*args):
        started = time.perf_counter()
        read_rows(*args)
        timed.append((time.perf_counter() - started, "row loop: read, validate, COPY to staging"))

    CursorWrapper.execute, service._read_rows = timed_execute, timed_read_rows
    try:
        started = time.perf_counter()
        with path.open("rb") as stream:
            service.customer_import(
                organization=organization, stream=stream, fmt="csv", actor=Actor(door=Door.IMPORT)
            )
        total = time.perf_counter() - started
    finally:
        CursorWrapper.execute, service._read_rows = execute, read_rows
    rest = total - sum(seconds for seconds, _ in timed)
    shown = [(seconds, what) for seconds, what in timed if seconds > 0.2]
    rest_of_it = (rest, "the rest (COMMIT, small statements)")
    return [(total, "whole import, in process"), *shown, rest_of_it]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument(
        "--upsert-again", action="store_true", help="Then time an upsert of the same file."
    )
    parser.add_argument("--stages", action="store_true", help="Then time each stage in process.")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Run it on PostgreSQL: set DATABASE_URL.")
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "customers.csv"
        started = time.perf_counter()
        generate(path, args.rows, args.seed)
        size_mb = path.stat().st_size / 2**20
        took = time.perf_counter() - started
        print(f"generated {args.rows} rows, {size_mb:.0f} MiB in {took:.1f} s")
        organization = Organization.objects.create(name="Import benchmark", base_currency="USD")
        second = Organization.objects.create(name="Import benchmark, stages", base_currency="USD")
        timed = []
        try:
            seconds, peak_mb, summary = run_import(path, organization)
            print(f"import_customers: {summary}")
            if args.upsert_again:
                _, _, again = run_import(path, organization, "--mode", "upsert")
                print(f"upsert of the same file: {again}")
            if args.stages:
                timed = stages(path, second)
            copy_seconds = bare_copy(path)
            validate_seconds = validate_only(path)
        finally:
            with connection.cursor() as cursor:
                for table in ("customers_customerchange", "customers_customer"):
                    cursor.execute(
                        f"DELETE FROM {table} WHERE organization_id IN (%s, %s)",
                        [organization.pk, second.pk],
                    )
            organization.delete()
            second.delete()
    ours, floor = args.rows / seconds, args.rows / copy_seconds
    print(f"import:    {seconds:7.1f} s  {ours:9,.0f} rows/s  peak RSS {peak_mb:.0f} MB")
    print(f"bare COPY: {copy_seconds:7.1f} s  {floor:9,.0f} rows/s")
    print(f"import rate / bare COPY rate = {ours / floor:.2f}")
    print(
        f"read + validate only, no database: {validate_seconds:.1f} s "
        f"{args.rows / validate_seconds:9,.0f} rows/s"
    )
    for seconds, what in timed:
        print(f"  {seconds:7.1f} s  {what}")


if __name__ == "__main__":
    main()
