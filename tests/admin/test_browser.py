"""End to end in a real headless Chromium: find a customer, fix its billing address, see the
change and its history entry.

Needs Debian's browser (`apt-get install -y chromium`); Playwright drives it through
`executable_path` and never downloads one. Set ADMIN_SCREENSHOTS_DIR=docs to refresh the README's
screenshots.
"""

import os
from decimal import Decimal
from pathlib import Path

import pytest

from customers.models import Customer, CustomerChange
from organizations.models import Membership

from ..factories import PASSWORD, CustomerFactory, MembershipFactory, OrganizationFactory
from .conftest import make_staff

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install -y chromium"
    ),
]

BOOK = [
    ("Globex Corporation", "Globex Corporation", "ap@globex.example", "USD", "12500.000"),
    ("Initech", "Initech LLC", "billing@initech.example", "USD", "980.500"),
    ("Umbrella Retail", "Umbrella Retail SA", "finance@umbrella.example", "EUR", "4310.000"),
    ("Hooli Cloud", "Hooli Inc.", "invoices@hooli.example", "USD", "0.000"),
    ("Stark Logistics", "Stark Logistics GmbH", "ar@stark.example", "EUR", "21775.250"),
    ("Wayne Foods", "Wayne Foods Ltd", "accounts@wayne.example", "GBP", "640.000"),
]


@pytest.fixture
def book(transactional_db):
    """A staff member of two organizations, and a small book of customers."""
    acme = OrganizationFactory(name="Acme Books")
    northwind = OrganizationFactory(name="Northwind Ledger")
    owner = MembershipFactory(
        organization=acme, role=Membership.Role.OWNER, user__email="ada@acme-books.example"
    )
    staff = make_staff(owner.user)
    MembershipFactory(organization=northwind, user=staff)
    for index, (name, company, email, currency, balance) in enumerate(BOOK):
        CustomerFactory(
            organization=acme if index % 3 else northwind,
            display_name=name,
            company_name=company,
            email=email,
            currency_code=currency,
            balance=Decimal(balance),
            active=name != "Hooli Cloud",
        )
    return staff


def screenshot_path(tmp_path: Path, name: str) -> Path:
    directory = os.environ.get("ADMIN_SCREENSHOTS_DIR")
    return Path(directory) / name if directory else tmp_path / name


def test_staff_finds_a_customer_edits_its_billing_address_and_sees_the_history(
    live_server, book, tmp_path
):
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        page = chromium.new_page(viewport={"width": 1680, "height": 900})
        page.set_default_timeout(15_000)

        page.goto(f"{live_server.url}/admin/login/?next=/admin/customers/customer/")
        page.fill("#id_username", book.email)
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_selector("#result_list")
        page.screenshot(path=screenshot_path(tmp_path, "admin-customers.png"), full_page=True)

        page.fill("#searchbar", "globex")
        page.press("#searchbar", "Enter")
        page.wait_for_url("**/?q=globex")
        rows = page.locator("#result_list tbody tr")
        assert rows.count() == 1
        rows.first.locator("th a").click()

        page.wait_for_selector("#customer_form")
        page.fill("#id_billing_address_1", "1 Market Street")
        page.fill("#id_billing_address_city", "San Francisco")
        page.fill("#id_billing_address_postcode", "94105")
        page.click("[data-copy-billing-to-shipping]")
        assert page.input_value("#id_shipping_address_city") == "San Francisco"
        page.click("input[name=_continue]")

        page.wait_for_selector(".messagelist .success")
        assert page.input_value("#id_billing_address_city") == "San Francisco"
        history = page.locator(".customer-history").inner_text()
        assert "billingAddressCity: — → San Francisco" in history
        assert book.email in history
        page.screenshot(path=screenshot_path(tmp_path, "admin-customer-change.png"), full_page=True)

        page.click("text=The whole history")
        page.wait_for_selector(".customer-history")
        assert "billingAddress1: — → 1 Market Street" in page.inner_text(".customer-history")
        chromium.close()

    customer = Customer.objects.get(display_name="Globex Corporation")
    assert (customer.billing_address_city, customer.shipping_address_city) == (
        "San Francisco",
        "San Francisco",
    )
    change = CustomerChange.objects.get(customer_id=customer.pk)
    assert (change.door, change.actor_user) == ("admin", book)
