"""What one statement of a request's path costs, on each side of the connection.

    DATABASE_URL=postgres://… .venv/bin/python bench/statements.py [--runs 5000]

Runs each statement that an API request sends, with bench/generate.py's data, on one psycopg
connection (prepared, as the application's are), and prints per statement: wall time, this
process's CPU time (psycopg and the kernel's share of the round trip), and the CPU time of the
PostgreSQL backend serving it (read from /proc, so the server must run on this machine). The
statements:

- the empty query a connection pool sends to check a connection (CONN_HEALTH_CHECKS' price);
- the API key's lookup (with its organization and creator), as authentication sends it
  (authkeys.queries), and the rate-limit count the throttle sends for every request
  (authkeys.ratelimit);
- one customer by organization and id, as a GET reads it (customers.queries).
"""

import argparse
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402

from authkeys import crypto, queries, ratelimit  # noqa: E402
from customers import queries as customer_queries  # noqa: E402


def backend_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return int(fields[11]) + int(fields[12])


def measure(connection, pid: int, sql: str, params, runs: int) -> str:
    cursor = connection.cursor()
    prepare = bool(sql)  # as the pool sends its empty query: unprepared
    for _ in range(50):
        cursor.execute(sql, params(), prepare=prepare)
    started, cpu, ticks = time.perf_counter(), time.process_time(), backend_ticks(pid)
    for _ in range(runs):
        cursor.execute(sql, params(), prepare=prepare)
    wall = (time.perf_counter() - started) / runs * 1e6
    client = (time.process_time() - cpu) / runs * 1e6
    server = (backend_ticks(pid) - ticks) / os.sysconf("SC_CLK_TCK") / runs * 1e6
    return f"{wall:6.0f} µs wall, {client:4.0f} µs CPU here, {server:4.0f} µs CPU in PostgreSQL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5000)
    args = parser.parse_args()
    tenants = [line.split("\t") for line in (BENCH / "out" / "tenants.tsv").read_text().split("\n")]
    tenants = [tenant for tenant in tenants if len(tenant) == 4]
    digests = [crypto.digest(key) for key, *_ in tenants]
    customers = [(int(org), int(low), int(high)) for _, org, low, high in tenants]

    def one_customer():
        organization, low, high = random.choice(customers)
        return [organization, random.randint(low, high)]

    statements = {
        "empty query (a pool's check)": ("", lambda: None),
        "API key lookup": (queries.API_KEY_BY_DIGEST, lambda: [random.choice(digests)]),
        "rate-limit count": (
            ratelimit.COUNT_SQL["postgresql"],
            lambda: [f"ratelimit:bench-{random.randrange(1000)}", timedelta(minutes=1)],
        ),
        "one customer": (customer_queries.CUSTOMER_BY_ID, one_customer),
    }
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        pid = conn.info.backend_pid
        for name, (sql, params) in statements.items():
            print(f"{name:32} {measure(conn, pid, sql, params, args.runs)}")


if __name__ == "__main__":
    main()
