"""CPU and WAL of one import, on both sides of the connection: for A/B comparisons.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/counterpart_import \
        .venv/bin/python bench/import_cpu.py FILE --organization ID [--write]

Runs `import_customers FILE --organization ID --dry-run` (everything, constraints included, then
rolled back; `--write` commits instead) in this process and prints this process's CPU time, the
PostgreSQL backend's CPU time (read from /proc, so run it on the database's host) and the WAL
written. On a machine shared with other work these move far less than wall time, which is
printed too. bench/import_customers.py writes a suitable FILE (its generator, `--rows`).
"""

import argparse
import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402


def backend_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--organization", required=True)
    parser.add_argument("--write", action="store_true", help="commit instead of --dry-run")
    args = parser.parse_args()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid(), pg_current_wal_lsn()")
        pid, wal_start = cursor.fetchone()
    backend, python, wall = backend_seconds(pid), time.process_time(), time.perf_counter()
    output = io.StringIO()
    options = [] if args.write else ["--dry-run"]
    call_command(
        "import_customers", args.file, "--organization", args.organization, *options,
        stdout=output, stderr=output,
    )  # fmt: skip
    backend = backend_seconds(pid) - backend
    python, wall = time.process_time() - python, time.perf_counter() - wall
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", [wal_start])
        [wal] = cursor.fetchone()
    print(output.getvalue().strip().splitlines()[-1])
    print(
        f"wall {wall:.1f} s, Python CPU {python:.1f} s, PostgreSQL backend CPU {backend:.1f} s, "
        f"WAL {int(wal) / 2**30:.2f} GB, load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
