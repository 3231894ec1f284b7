"""Big files: streamed rather than loaded, and a killed import leaves the database as it was."""

import os
import signal
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from django.db import connection

from customers.models import Customer, CustomerChange
from tests.conftest import make_tenant

HEADER = "customerType,displayName,code,note,currencyCode\n"
NOTE = "n" * 3000


def write_rows(path: Path, count: int, note: str = "") -> Path:
    with path.open("w") as out:
        out.write(HEADER)
        for number in range(count):
            out.write(f"business,Customer {number},C{number},{note},USD\n")
    return path


@pytest.mark.django_db
def test_memory_stays_flat_while_a_file_many_times_bigger_streams_through(
    tmp_path, tenant, run_import
):
    path = write_rows(tmp_path / "big.csv", 8_000, NOTE)
    assert path.stat().st_size > 24_000_000

    tracemalloc.start()
    try:
        run = run_import(path, tenant.organization, "--dry-run")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert "8000 rows" in run.stdout, run.output
    assert "created 8000" in run.stdout
    assert peak < 12_000_000, f"peak {peak} bytes for a {path.stat().st_size} byte file"


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_killing_the_import_midway_leaves_the_database_exactly_as_before(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("the kill test runs a second process against PostgreSQL")
    tenant = make_tenant("Killed")
    before = set(Customer.objects.values_list("pk", "version", "display_name"))
    path = write_rows(tmp_path / "big.csv", 400_000)
    settings = connection.settings_dict
    url = f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    process = subprocess.Popen(  # noqa: S603 (our own manage.py)
        [
            sys.executable,
            "manage.py",
            "import_customers",
            str(path),
            "--organization",
            str(tenant.organization.pk),
        ],
        cwd=Path(__file__).resolve().parents[3],
        env={**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stderr.readline()  # "Read 100000 rows (…)": well inside the transaction
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)

    assert line.startswith("Read 100000 rows"), line + process.stderr.read()
    assert process.returncode == -signal.SIGKILL
    assert set(Customer.objects.values_list("pk", "version", "display_name")) == before
    assert not CustomerChange.objects.exists()
