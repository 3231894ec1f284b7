"""import_customers --on-duplicate: new rows strongly like the book's customers or earlier rows
are reported, skipped or refused; a dry run reports them and writes nothing."""

import pytest

from common.actors import Actor, Door
from customers import services
from customers.models import Customer, CustomerChange, CustomerSignal

from .conftest import rows, write_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(tenant):
    return services.customer_create(
        organization=tenant.organization,
        data={
            "customer_type": "business",
            "display_name": "Acme Corp.",
            "email": "billing@acme.test",
            "currency_code": "USD",
        },
        actor=Actor(door=Door.COMMAND),
    )


@pytest.fixture
def file(tmp_path):
    return write_csv(
        tmp_path / "c.csv",
        rows(
            ["business", "ACME Corporation", "", "BILLING@acme.test", "USD"],  # the book's
            ["business", "Globex", "G-1", "ap@globex.test", "USD"],
            ["business", "Globex Inc", "", "AP@globex.test ", "USD"],  # row 3: like row 2
            ["business", "Initech", "", "", "USD"],
        ),
    )


def names(tenant) -> set[str]:
    return set(
        Customer.objects.filter(organization=tenant.organization).values_list(
            "display_name", flat=True
        )
    )


def test_a_dry_run_reports_duplicates_in_the_file_and_against_the_book(
    tenant, book, file, run_import
):
    before = names(tenant)

    run = run_import(file, tenant.organization, "--dry-run")

    assert run.failed is None, run.output
    assert f"Possible duplicate: Row 2 looks like customer {book.pk}" in run.stdout
    assert "Possible duplicate: Row 4 looks like row 3 of the file" in run.stdout
    assert "Dry run: nothing was written." in run.stdout
    assert names(tenant) == before


def test_allow_creates_them_and_reports_them(tenant, book, file, run_import):
    run = run_import(file, tenant.organization)

    assert run.failed is None, run.output
    assert "created 4" in run.stdout
    assert "Possible duplicate: Row 2" in run.stdout
    assert {"ACME Corporation", "Globex Inc"} <= names(tenant)
    created = Customer.objects.get(display_name="Globex Inc")
    assert ("email", "ap@globex.test") in set(
        CustomerSignal.objects.filter(customer=created).values_list("kind", "value")
    )


def test_skip_leaves_the_duplicate_rows_out_with_no_trace(tenant, book, file, run_import):
    run = run_import(file, tenant.organization, "--on-duplicate", "skip")

    assert run.failed is None, run.output
    assert "created 2" in run.stdout
    assert "Skipped 2 possible duplicate(s)." in run.stdout
    assert names(tenant) == {tenant.customer.display_name, "Acme Corp.", "Globex", "Initech"}
    assert not CustomerChange.objects.filter(customer_display_name="Globex Inc").exists()
    assert CustomerChange.objects.filter(position__isnull=True).count() == 0


def test_reject_imports_nothing_and_says_why(tenant, book, file, run_import):
    before = names(tenant)

    run = run_import(file, tenant.organization, "--on-duplicate", "reject")

    assert run.failed is not None
    assert "2 row(s) look like existing customers or earlier rows" in run.failed
    assert names(tenant) == before


def test_a_file_without_duplicates_imports_as_before(tenant, tmp_path, run_import):
    path = write_csv(tmp_path / "c.csv", rows(["business", "Hooli", "", "", "USD"]))

    run = run_import(path, tenant.organization, "--on-duplicate", "reject")

    assert run.failed is None, run.output
    assert "Possible duplicate" not in run.stdout
