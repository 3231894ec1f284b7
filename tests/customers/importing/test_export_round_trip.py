"""export_customers writes what import_customers reads back unchanged, in every format."""

import csv
import io
import json
import sys
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from customers.importing.cells import neutralise, unneutralise
from customers.importing.export import FIELDS
from customers.models import Customer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

ATTRIBUTES = [field.attribute for field in FIELDS]


@pytest.fixture
def tricky(tenant):
    """Customers whose values a careless export or import would change."""
    tenant.customer.delete()
    return [
        CustomerFactory(
            organization=tenant.organization,
            customer_type="individual",
            display_name="=SUM(A1:A9)",
            code="C-1",
            work_phone="+1 (555) 123-4567",
            first_name="-dash",
            last_name="@at",
            company_name="'=already quoted",
            salutation="''+two quotes",
            note='Line one\nline two, with "quotes" and ; semicolons',
            email="zoe@example.com",
            billing_address_city="Zoë 東京",
            billing_address_postcode="01234",
            active=False,
            currency_code="EUR",
            opening_balance=Decimal("-1234.567"),
            balance=Decimal("-1234.567"),
            opening_balance_at=datetime(2024, 2, 3, 4, 5, 6, 789000, tzinfo=UTC),
            opening_balance_exchange_rate=Decimal("0.123456789"),
        ),
        CustomerFactory(organization=tenant.organization, code=None, display_name="Plain"),
    ]


def export(tenant, fmt, path):
    call_command(
        "export_customers",
        "--organization",
        str(tenant.organization.pk),
        "--format",
        fmt,
        "--output",
        str(path),
        stderr=io.StringIO(),
    )


def values(organization):
    return sorted(
        Customer.objects.filter(organization=organization).values_list(*ATTRIBUTES),
        key=lambda row: row[ATTRIBUTES.index("display_name")],
    )


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx"])
def test_export_then_import_into_another_organization_gives_the_same_customers(
    tmp_path, tenant, other_tenant, tricky, fmt, run_import
):
    other_tenant.customer.delete()
    path = tmp_path / f"customers.{fmt}"
    export(tenant, fmt, path)

    run = run_import(path, other_tenant.organization)

    assert run.failed is None, run.output
    assert "created 2" in run.stdout
    assert values(other_tenant.organization) == values(tenant.organization)


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx"])
def test_export_then_upsert_into_the_same_organization_changes_nothing(
    tmp_path, tenant, tricky, fmt, run_import
):
    tricky[0].opening_balance_branch = tenant.branch
    tricky[0].save(update_fields=["opening_balance_branch"])
    path = tmp_path / f"customers.{fmt}"
    export(tenant, fmt, path)
    coded = Customer.objects.filter(code="C-1")
    before = list(coded.values_list(*ATTRIBUTES, "version", "updated_at"))

    run = run_import(path, tenant.organization, "--mode", "upsert")

    assert run.failed is None, run.output
    # The customer without a code cannot be matched, so upsert creates it again.
    assert "created 1, updated 0, unchanged 1, failed 0" in run.stdout
    assert list(coded.values_list(*ATTRIBUTES, "version", "updated_at")) == before
    assert Customer.objects.filter(display_name="Plain").count() == 2


def test_csv_export_neutralises_formulas_and_names_columns_as_the_api(tmp_path, tenant, tricky):
    path = tmp_path / "customers.csv"
    export(tenant, "csv", path)

    header, first, _ = list(csv.reader(path.open(encoding="utf-8")))

    assert header == [field.name for field in FIELDS]
    cell = dict(zip(header, first, strict=True))
    assert cell["displayName"] == "'=SUM(A1:A9)"
    assert cell["workPhone"] == "'+1 (555) 123-4567"
    assert (cell["firstName"], cell["lastName"]) == ("'-dash", "'@at")
    assert cell["companyName"] == "''=already quoted"
    assert cell["openingBalance"] == "-1234.567"  # numbers are not text: left alone
    assert cell["active"] == "false"


def test_xlsx_export_writes_no_formula_cells(tmp_path, tenant, tricky):
    path = tmp_path / "customers.xlsx"
    export(tenant, "xlsx", path)

    sheet = load_workbook(path).worksheets[0]

    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert sheet.cell(row=2, column=2).value == "'=SUM(A1:A9)"


def test_json_export_keeps_values_as_they_are(tmp_path, tenant, tricky):
    path = tmp_path / "customers.json"
    export(tenant, "json", path)

    first = json.loads(path.read_text())[0]

    assert first["displayName"] == "=SUM(A1:A9)"
    assert first["openingBalance"] == -1234.567
    assert first["openingBalanceAt"] == "2024-02-03T04:05:06.789000Z"


@pytest.mark.parametrize(
    "value", ["=1+1", "+1", "-", "@x", "'=x", "''@x", "'plain", "plain", "", "a=b", "'"]
)
def test_neutralisation_is_undone_exactly(value):
    assert unneutralise(neutralise(value)) == value


def test_standard_input_is_read_with_dash(tmp_path, tenant, monkeypatch, run_import):
    body = b'{"customerType": "business", "displayName": "Piped", "currencyCode": "USD"}\n'
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(body)))

    run = run_import("-", tenant.organization, "--format", "jsonl")

    assert "created 1" in run.stdout, run.output
    assert Customer.objects.filter(display_name="Piped").exists()


def test_csv_with_bom_and_spreadsheet_spellings_is_read(tmp_path, tenant, run_import):
    path = tmp_path / "c.csv"
    path.write_bytes(
        b"\xef\xbb\xbfCUSTOMER TYPE,display_name,Currency Code,Active,"
        b"Opening Balance Exchange Rate\r\n"
        b"INDIVIDUAL,Ann,usd,YES,1.5\r\n"
    )

    run = run_import(path, tenant.organization)

    assert "Row 2, currencyCode: Enter a real ISO 4217 currency code" in run.stderr
    path.write_bytes(path.read_bytes().replace(b"usd", b"USD"))
    run = run_import(path, tenant.organization)
    ann = Customer.objects.get(display_name="Ann")
    assert (ann.customer_type, ann.active, ann.opening_balance_exchange_rate) == (
        "individual",
        True,
        Decimal("1.5"),
    )
