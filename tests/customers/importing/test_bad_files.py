"""Files that cannot be imported: each gets a clear message, and nothing is written."""

import io
import json

import pytest
from openpyxl import Workbook

from customers.models import Customer, CustomerChange

from .conftest import HEADER, rows, write_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def nothing_written(tenant):
    before = set(Customer.objects.values_list("pk", "version"))
    yield
    assert set(Customer.objects.values_list("pk", "version")) == before
    assert not CustomerChange.objects.exists()


def test_wrong_encoding_is_refused_naming_utf8(tmp_path, tenant, run_import, nothing_written):
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        ",".join(HEADER).encode() + b"\nbusiness,Caf\xe9,C-1,,USD\nbusiness,Ok,C-2,,USD\n"
    )

    run = run_import(path, tenant.organization)

    assert "Nothing was imported: The file is not UTF-8 text (byte 0xe9" in run.failed


def test_nul_bytes_are_refused(tmp_path, tenant, run_import, nothing_written):
    path = tmp_path / "nul.csv"
    path.write_bytes(",".join(HEADER).encode() + b"\nbusiness,A\x00B,C-1,,USD\n")

    run = run_import(path, tenant.organization)

    assert "The file contains NUL bytes (row 2)" in run.failed


def test_missing_required_column_is_refused_before_any_row_is_read(
    tmp_path, tenant, run_import, nothing_written
):
    path = write_csv(tmp_path / "c.csv", [["customerType", "code"], ["business", "A"]])

    run = run_import(path, tenant.organization)

    assert "Missing required column: displayName, currencyCode." in run.failed
    assert "Row" not in run.stderr


def test_upsert_needs_its_match_column(tmp_path, tenant, run_import, nothing_written):
    path = write_csv(tmp_path / "c.csv", [["customerType", "displayName", "currencyCode"]])

    run = run_import(path, tenant.organization, "--mode", "upsert", "--match", "email")

    assert "Missing required column: email." in run.failed


def test_unknown_columns_are_refused_unless_ignored(tmp_path, tenant, run_import):
    path = write_csv(
        tmp_path / "c.csv", [[*HEADER, "Loyalty Tier"], ["business", "A", "A-1", "", "USD", "gold"]]
    )

    refused = run_import(path, tenant.organization)
    assert not Customer.objects.filter(code="A-1").exists()
    accepted = run_import(path, tenant.organization, "--ignore-unknown-columns")

    assert "Unknown column: 'Loyalty Tier'" in refused.failed
    assert "--ignore-unknown-columns" in refused.failed
    assert accepted.failed is None
    assert Customer.objects.filter(code="A-1").exists()


def test_two_spellings_of_one_field_are_refused(tmp_path, tenant, run_import, nothing_written):
    header = [*HEADER, "billingAddressZipcode", "Billing Address Postcode"]
    path = write_csv(tmp_path / "c.csv", [header])

    run = run_import(path, tenant.organization)

    assert "both name the field billingAddressPostcode" in run.failed


def test_duplicate_codes_in_the_file_are_errors_on_every_row_carrying_them(
    tmp_path, tenant, run_import, nothing_written
):
    path = write_csv(
        tmp_path / "c.csv",
        rows(
            ["business", "A", "DUP", "", "USD"],
            ["business", "B", "OK", "", "USD"],
            ["business", "C", "DUP", "", "USD"],
        ),
    )

    run = run_import(path, tenant.organization)

    assert "Row 2, code: The same code is on rows 2, 4 of the file." in run.stderr
    assert "Row 4, code: The same code is on rows 2, 4 of the file." in run.stderr
    assert "failed 2" in run.stdout


def test_over_long_values_are_errors_naming_the_limit(
    tmp_path, tenant, run_import, nothing_written
):
    path = write_csv(tmp_path / "c.csv", rows(["business", "x" * 256, "A", "", "USD"]))

    run = run_import(path, tenant.organization)

    assert "Row 2, displayName: Ensure this field has no more than 255 characters." in run.stderr


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "The file is empty"),
        ("bom-only.csv", b"\xef\xbb\xbf", "The file is empty"),
        ("header-only.csv", b"customerType,displayName,currencyCode\n", "no customers"),
        ("empty.json", b"", "The file is empty"),
        ("empty-array.json", b"[]", "The file has no customers"),
        ("empty.jsonl", b"\n", "The file has no customers"),
        ("empty.xlsx", b"", "Not a valid XLSX workbook"),
    ],
)
def test_empty_files_are_refused(
    tmp_path, tenant, run_import, nothing_written, name, content, message
):
    path = tmp_path / name
    path.write_bytes(content)

    run = run_import(path, tenant.organization)

    assert message in run.failed


def test_malformed_json_is_refused_with_where(tmp_path, tenant, run_import, nothing_written):
    good = {"customerType": "business", "displayName": "A", "currencyCode": "USD"}
    path = tmp_path / "c.json"
    path.write_text("[" + json.dumps(good) + ", {")

    run = run_import(path, tenant.organization)

    assert "Not valid JSON after object 1" in run.failed


def test_json_keeps_the_api_types_strings_are_not_booleans(
    tmp_path, tenant, run_import, nothing_written
):
    item = {"customerType": "Business", "displayName": "A", "currencyCode": "USD"}
    path = tmp_path / "c.json"
    path.write_text(
        json.dumps(
            [{**item, "active": "yes", "openingBalance": 1}, {**item, "openingBalance": "12"}]
        )
    )

    run = run_import(path, tenant.organization)

    assert "Row 1, active: Must be true or false." in run.stderr
    assert "Row 2, openingBalance: Must be a number." in run.stderr
    assert "Row 2: Unknown field: openingBalance." not in run.stderr


def test_unknown_format_is_refused(tmp_path, tenant, run_import, nothing_written):
    path = tmp_path / "c.txt"
    path.write_text("x")

    run = run_import(path, tenant.organization)

    assert "pass --format" in run.failed


def test_xlsx_cells_beyond_the_header_are_row_errors(tmp_path, tenant, run_import):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(["business", "A", "A-1", None, "USD", "stray"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    path = tmp_path / "c.xlsx"
    path.write_bytes(buffer.getvalue())

    run = run_import(path, tenant.organization)

    assert "Row 2: Has cells beyond the header's columns." in run.stderr


def test_half_a_surrogate_pair_in_a_json_lines_file_is_a_row_error_naming_the_field(
    tmp_path, tenant, run_import, nothing_written
):
    good = '{"customerType": "business", "displayName": "A", "currencyCode": "USD"}'
    bad = '{"customerType": "business", "displayName": "B \\ud800", "currencyCode": "USD"}'
    path = tmp_path / "c.jsonl"
    path.write_text(f"{good}\n{bad}\n")

    run = run_import(path, tenant.organization)

    assert "Row 2, displayName: Surrogate characters are not allowed: U+D800." in run.stderr
