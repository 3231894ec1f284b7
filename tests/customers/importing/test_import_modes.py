"""import_customers: create, upsert and update, history, counts, all-or-nothing."""

import csv
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from customers.importing.staging import Staging
from customers.models import Customer, CustomerChange
from tests.factories import CustomerFactory

from .conftest import rows, write_csv

pytestmark = pytest.mark.django_db


def test_create_writes_customers_with_balance_history_and_import_door(tmp_path, tenant, run_import):
    path = write_csv(
        tmp_path / "c.csv",
        [
            [
                "Customer Type",
                "Display Name",
                "code",
                "Billing Address Zipcode",
                "currency_code",
                "openingBalance",
                "Opening Balance At",
                "active",
            ],
            ["Business", "Acme", "A-1", "10001", "USD", "1500.5", "2024-01-01", "no"],
            ["individual", "Jane", "", "", "EUR", "", "", ""],
        ],
    )

    run = run_import(path, tenant.organization)

    assert run.failed is None, run.output
    assert "created 2, updated 0, unchanged 0, failed 0" in run.stdout
    acme = Customer.objects.get(organization=tenant.organization, code="A-1")
    assert acme.customer_type == "business"
    assert acme.billing_address_postcode == "10001"
    assert acme.opening_balance == acme.balance == Decimal("1500.5")
    assert acme.opening_balance_at == datetime(2024, 1, 1, tzinfo=UTC)
    assert acme.active is False
    jane = Customer.objects.get(organization=tenant.organization, display_name="Jane")
    assert (jane.code, jane.active, jane.opening_balance, jane.opening_balance_exchange_rate) == (
        None,
        True,
        Decimal(0),
        Decimal(1),
    )
    change = CustomerChange.objects.get(customer_id=acme.pk)
    assert (change.action, change.door, change.organization_id) == (
        "create",
        "import",
        tenant.organization.pk,
    )
    assert change.changes["displayName"] == [None, "Acme"]
    assert change.changes["openingBalance"] == [None, 1500.5]
    assert change.changes["openingBalanceAt"] == [None, "2024-01-01T00:00:00Z"]
    assert change.changes["active"] == [None, False]


def test_upsert_twice_changes_nothing_the_second_time_and_says_so(tmp_path, tenant, run_import):
    path = write_csv(
        tmp_path / "c.csv",
        rows(
            ["business", "Acme", "A-1", "a@example.com", "USD"],
            ["business", "Beta", "B-1", "b@example.com", "USD"],
        ),
    )
    first = run_import(path, tenant.organization, "--mode", "upsert")
    history = CustomerChange.objects.count()
    versions = dict(Customer.objects.values_list("code", "version"))

    second = run_import(path, tenant.organization, "--mode", "upsert")

    assert "created 2, updated 0, unchanged 0" in first.stdout
    assert "created 0, updated 0, unchanged 2, failed 0" in second.stdout
    assert "Nothing changed" in second.stdout
    assert CustomerChange.objects.count() == history
    assert dict(Customer.objects.values_list("code", "version")) == versions


def test_upsert_updates_matched_rows_bumps_version_and_records_what_changed(
    tmp_path, tenant, run_import
):
    existing = CustomerFactory(
        organization=tenant.organization, code="A-1", display_name="Old", currency_code="USD"
    )
    path = write_csv(
        tmp_path / "c.csv",
        rows(
            ["business", "New", "A-1", "", "EUR"],
            ["business", "Fresh", "C-9", "", "USD"],
        ),
    )

    run = run_import(path, tenant.organization, "--mode", "upsert")

    assert "created 1, updated 1, unchanged 0" in run.stdout, run.output
    existing.refresh_from_db()
    assert (existing.display_name, existing.version) == ("New", 2)
    assert existing.currency_code == "USD"  # read-only once created, as in the API
    change = CustomerChange.objects.get(customer_id=existing.pk)
    assert (change.action, change.door) == ("update", "import")
    assert change.changes == {"displayName": ["Old", "New"]}


def test_update_matches_email_case_insensitively_and_refuses_unknown_ones(
    tmp_path, tenant, run_import
):
    existing = CustomerFactory(organization=tenant.organization, email="Ann@Example.com")
    header = ["customerType", "displayName", "email"]
    path = write_csv(
        tmp_path / "c.csv",
        [
            header,
            ["individual", "Ann", "ann@example.COM"],
            ["individual", "Bob", "bob@x.com"],
        ],
    )

    run = run_import(path, tenant.organization, "--mode", "update", "--match", "email")

    assert "Row 3, email: No customer of this organization has this email." in run.stderr
    assert run.failed
    existing.refresh_from_db()
    assert existing.display_name != "Ann"

    path = write_csv(tmp_path / "c.csv", [header, ["individual", "Ann", "ann@example.COM"]])
    run = run_import(path, tenant.organization, "--mode", "update", "--match", "email")

    assert "updated 1" in run.stdout, run.output
    existing.refresh_from_db()
    assert (existing.display_name, existing.email) == ("Ann", "ann@example.COM")


def test_create_refuses_a_code_the_organization_already_has(tmp_path, tenant, run_import):
    CustomerFactory(organization=tenant.organization, code="A-1")
    path = write_csv(tmp_path / "c.csv", rows(["business", "Acme", "A-1", "", "USD"]))

    run = run_import(path, tenant.organization)

    assert "Row 2, code: Another customer of this organization already has this code." in (
        run.stderr
    )
    assert Customer.objects.filter(organization=tenant.organization).count() == 2


def test_any_invalid_row_writes_nothing_and_reports_every_error(tmp_path, tenant, run_import):
    before = Customer.objects.count()
    path = write_csv(
        tmp_path / "c.csv",
        rows(
            ["business", "Good", "G-1", "g@example.com", "USD"],
            ["company", "", "G-2", "not-an-email", "usd"],
            ["business", "Also good", "G-3", "", "ZZZ"],
        ),
    )

    run = run_import(path, tenant.organization)

    assert run.failed
    assert "2 row(s) failed" in run.failed
    assert 'Row 3, customerType: "company" is not a valid choice.' in run.stderr
    assert "Row 3, displayName: This field is required." in run.stderr
    assert "Row 3, email: Enter a valid email address." in run.stderr
    assert "Row 4, currencyCode: Enter a real ISO 4217 currency code" in run.stderr
    assert Customer.objects.count() == before
    assert not CustomerChange.objects.exists()


def test_skip_invalid_writes_the_valid_rows_and_the_errors_file_can_be_fixed_and_reimported(
    tmp_path, tenant, run_import
):
    path = write_csv(
        tmp_path / "c.csv",
        rows(
            ["business", "Good", "G-1", "", "USD"],
            ["business", "Bad", "G-2", "nope", "USD"],
        ),
    )
    errors = tmp_path / "errors.csv"

    run = run_import(path, tenant.organization, "--skip-invalid", "--errors", str(errors))

    assert run.failed is None, run.output
    assert "created 1, updated 0, unchanged 0, failed 1" in run.stdout
    content = errors.read_text()
    assert content.splitlines()[0] == ",".join([*rows()[0], "Import Errors"])
    assert "G-2" in content
    assert "email: Enter a valid email address." in content
    errors.write_text(content.replace("nope", "fixed@example.com"))

    again = run_import(errors, tenant.organization)

    assert "created 1" in again.stdout, again.output
    assert Customer.objects.get(code="G-2").email == "fixed@example.com"


def test_dry_run_reports_what_would_happen_and_writes_nothing(tmp_path, tenant, run_import):
    path = write_csv(tmp_path / "c.csv", rows(["business", "Acme", "A-1", "", "USD"]))

    run = run_import(path, tenant.organization, "--dry-run")

    assert "created 1" in run.stdout
    assert "Dry run: nothing was written." in run.stdout
    assert not Customer.objects.filter(code="A-1").exists()
    assert not CustomerChange.objects.exists()


def test_opening_balance_without_date_and_branch_of_another_organization_are_refused(
    tmp_path, tenant, other_tenant, run_import
):
    path = write_csv(
        tmp_path / "c.csv",
        [
            [
                "customerType",
                "displayName",
                "currencyCode",
                "openingBalance",
                "openingBalanceBranchId",
                "openingBalanceAt",
            ],
            ["business", "A", "USD", "10", "", ""],
            ["business", "B", "USD", "10", str(other_tenant.branch.pk), "2024-01-01"],
            ["business", "C", "USD", "10", str(tenant.branch.pk), "2024-01-01"],
        ],
    )

    run = run_import(path, tenant.organization)

    assert "Row 2, openingBalanceAt: Required when openingBalance is not zero." in run.stderr
    assert "Row 3, openingBalanceBranchId: No branch with this id in this organization." in (
        run.stderr
    )
    assert "failed 2" in run.stdout
    assert not Customer.objects.filter(display_name__in=["A", "B", "C"]).exists()


def test_a_file_for_one_organization_never_touches_another(
    tmp_path, tenant, other_tenant, run_import
):
    theirs = CustomerFactory(organization=other_tenant.organization, code="A-1", display_name="B")
    path = write_csv(tmp_path / "c.csv", rows(["business", "Mine", "A-1", "", "USD"]))

    run = run_import(path, tenant.organization, "--mode", "upsert")

    assert "created 1, updated 0" in run.stdout, run.output
    theirs.refresh_from_db()
    assert (theirs.display_name, theirs.version) == ("B", 1)
    assert Customer.objects.get(organization=tenant.organization, code="A-1").display_name == "Mine"
    assert not CustomerChange.objects.filter(organization=other_tenant.organization).exists()


def test_errors_file_carries_rows_failed_by_the_database_checks_too(tmp_path, tenant, run_import):
    CustomerFactory(organization=tenant.organization, code="TAKEN")
    path = write_csv(
        tmp_path / "c.csv",
        rows(
            ["business", "=Dup one", "DUP", "", "USD"],
            ["business", "Taken", "TAKEN", "", "USD"],
            ["business", "Dup two", "DUP", "", "USD"],
        ),
    )
    errors = tmp_path / "errors.csv"

    run = run_import(path, tenant.organization, "--errors", str(errors))

    assert "failed 3" in run.stdout
    failed = list(csv.reader(errors.open(newline="")))[1:]
    duplicate = "code: The same code is on rows 2, 4 of the file."
    taken = "code: Another customer of this organization already has this code."
    assert failed == [
        ["business", "'=Dup one", "DUP", "", "USD", duplicate],
        ["business", "Taken", "TAKEN", "", "USD", taken],
        ["business", "Dup two", "DUP", "", "USD", duplicate],
    ]


def test_a_code_taken_after_the_checks_ran_refuses_the_import_cleanly(
    tmp_path, tenant, run_import, monkeypatch
):
    CustomerFactory(organization=tenant.organization, code="RACE")
    # As if another writer took the code between the checks and the insert.
    monkeypatch.setattr(Staging, "find_matches", lambda self, cursor: None)
    monkeypatch.setattr(Staging, "checks", lambda self, cursor, mode: iter(()))
    path = write_csv(tmp_path / "c.csv", rows(["business", "Late", "RACE", "", "USD"]))

    run = run_import(path, tenant.organization)

    assert "a code taken meanwhile" in run.failed
    assert not Customer.objects.filter(display_name="Late").exists()
    assert not CustomerChange.objects.exists()


def test_dry_run_with_skip_invalid_reports_both_and_writes_nothing(tmp_path, tenant, run_import):
    path = write_csv(
        tmp_path / "c.csv",
        rows(["business", "Good", "G-1", "", "USD"], ["business", "", "G-2", "", "USD"]),
    )

    run = run_import(path, tenant.organization, "--dry-run", "--skip-invalid")

    assert run.failed is None, run.output
    assert "created 1, updated 0, unchanged 0, failed 1" in run.stdout
    assert "Dry run: nothing was written." in run.stdout
    assert not Customer.objects.filter(code__startswith="G-").exists()
