"""Imports count their rows in /metrics: written ones, and refused ones."""

import pytest
from prometheus_client import REGISTRY

from .conftest import rows, write_csv

pytestmark = pytest.mark.django_db


def count(outcome: str) -> float:
    return REGISTRY.get_sample_value("counterpart_import_rows_total", {"outcome": outcome}) or 0


def test_written_and_failed_rows_are_counted(tmp_path, tenant, run_import):
    before = {outcome: count(outcome) for outcome in ("created", "failed")}
    good = write_csv(
        tmp_path / "good.csv",
        rows(["business", "A", "M-1", "", "USD"], ["business", "B", "M-2", "", "USD"]),
    )
    bad = write_csv(tmp_path / "bad.csv", rows(["business", "", "M-3", "", "USD"]))

    assert run_import(good, tenant.organization).failed is None
    assert run_import(bad, tenant.organization).failed is not None
    dry = write_csv(tmp_path / "dry.csv", rows(["business", "C", "M-4", "", "USD"]))
    assert run_import(dry, tenant.organization, "--dry-run").failed is None

    assert count("created") == before["created"] + 2  # the dry run wrote nothing
    assert count("failed") == before["failed"] + 1
