import csv
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command


def write_csv(path: Path, rows: list[list], *, bom: bool = False) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode())
    return path


class Run:
    """The outcome of one `manage.py import_customers` as its user sees it."""

    def __init__(self, stdout: str, stderr: str, failed: str | None):
        self.stdout, self.stderr, self.failed = stdout, stderr, failed

    @property
    def output(self) -> str:
        return f"{self.stdout}\n{self.stderr}\n{self.failed or ''}"


@pytest.fixture
def run_import():
    def run(path, organization, *args) -> Run:
        stdout, stderr = io.StringIO(), io.StringIO()
        try:
            call_command(
                "import_customers",
                str(path),
                "--organization",
                str(organization.pk),
                *args,
                stdout=stdout,
                stderr=stderr,
            )
        except CommandError as error:
            return Run(stdout.getvalue(), stderr.getvalue(), str(error))
        return Run(stdout.getvalue(), stderr.getvalue(), None)

    return run


HEADER = ["customerType", "displayName", "code", "email", "currencyCode"]


def rows(*customers) -> list[list]:
    return [HEADER, *customers]
