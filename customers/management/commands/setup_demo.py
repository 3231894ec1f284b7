import json
import shlex
from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from authkeys.services import api_key_create
from common.actors import Actor, Door
from customers.models import Customer
from customers.services import customer_create
from organizations.models import Branch, Membership, Organization, User

DEMO_EMAIL = "demo@counterpart.local"
DEMO_PASSWORD = "counterpart-demo"  # noqa: S105 (a development-only account, refused in production)

# The body of the reference page's example (customerType added: the page marks it required).
SEED_EXAMPLE_BODY = {
    "customerType": "business",
    "salutation": "Mr.",
    "firstName": "John",
    "lastName": "Doe",
    "companyName": "Acme Corporation",
    "displayName": "John Doe - Acme Corporation",
    "email": "john.doe@acme.com",
    "workPhone": "+1 (555) 123-4567",
    "personalPhone": "+1 (555) 987-6543",
    "website": "https://www.acme.com",
    "billingAddress1": "123 Business Ave",
    "billingAddress2": "Suite 100",
    "billingAddressCity": "New York",
    "billingAddressCountry": "United States",
    "billingAddressEmail": "billing@acme.com",
    "billingAddressZipcode": "10001",
    "billingAddressPhone": "+1 (555) 111-2222",
    "billingAddressState": "NY",
    "shippingAddress1": "456 Shipping St",
    "shippingAddress2": "Unit 200",
    "shippingAddressCity": "Los Angeles",
    "shippingAddressCountry": "United States",
    "shippingAddressEmail": "shipping@acme.com",
    "shippingAddressZipcode": "90001",
    "shippingAddressPhone": "+1 (555) 333-4444",
    "shippingAddressState": "CA",
    "note": "Important client with regular monthly orders",
    "active": True,
}


class Command(BaseCommand):
    help = (
        "Create (once) a demo organization with a user, a branch and a customer, issue a new API "
        "key for it, and print a curl that edits the customer. For development only."
    )

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off")

    @transaction.atomic
    def handle(self, *args, base_url, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError("setup_demo creates a user with a known password: DEBUG is off.")
        organization, _ = Organization.objects.get_or_create(
            name="Demo Company", defaults={"base_currency": "USD"}
        )
        user = User.objects.filter(email=DEMO_EMAIL).first()
        if user is None:
            user = User.objects.create_user(DEMO_EMAIL, DEMO_PASSWORD, name="Demo Owner")
        Membership.objects.get_or_create(
            organization=organization, user=user, defaults={"role": Membership.Role.OWNER}
        )
        branch, _ = Branch.objects.get_or_create(
            organization=organization,
            code="HQ",
            defaults={"name": "Head office", "is_primary": True},
        )
        customer = Customer.objects.filter(organization=organization, code="ACME").first()
        if customer is None:
            customer = customer_create(
                organization=organization,
                data={
                    "customer_type": Customer.CustomerType.BUSINESS,
                    "display_name": "Acme",
                    "code": "ACME",
                    "currency_code": "USD",
                    "opening_balance": Decimal(1000),
                    "opening_balance_at": datetime(2024, 1, 1, tzinfo=UTC),
                    "opening_balance_branch_id": branch.pk,
                },
                actor=Actor(door=Door.COMMAND, user=user),
            )
        issued = api_key_create(organization=organization, name="Demo key", created_by=user)

        url = f"{base_url.rstrip('/')}/api/customers/{customer.pk}"
        body = json.dumps(SEED_EXAMPLE_BODY)
        self.stdout.write(
            f"\nDemo organization {organization.pk} ({organization.name}), "
            f"customer {customer.pk}.\n"
            f"Sign in as {DEMO_EMAIL} / {DEMO_PASSWORD} (admin: not staff; JWT: yes).\n"
            f"API key (shown once): {issued.key}\n\n"
            "Edit the customer with the reference page's example:\n\n"
            f"curl -sS -X PUT {url} \\\n"
            f"  -H 'Authorization: Bearer {issued.key}' \\\n"
            "  -H 'Content-Type: application/json' \\\n"
            f"  -d {shlex.quote(body)}\n"
        )
