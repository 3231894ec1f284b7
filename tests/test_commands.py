import io

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from authkeys import crypto
from authkeys.models import ApiKey
from customers.models import Customer, CustomerChange
from organizations.models import Organization

pytestmark = pytest.mark.django_db


def test_create_api_key_prints_a_working_key_once_and_stores_only_its_digest(tenant):
    out = io.StringIO()

    call_command(
        "create_api_key", "--organization", tenant.organization.pk, "--name", "CRM", stdout=out
    )

    key = out.getvalue().strip()
    assert crypto.is_well_formed(key)
    stored = ApiKey.objects.get(name="CRM")
    assert stored.digest == crypto.digest(key)
    assert key not in {stored.prefix, stored.digest, stored.name}
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.get(f"/api/customers/{tenant.customer.pk}").status_code == 200


def test_create_api_key_for_a_missing_organization_fails_clearly(db):
    with pytest.raises(CommandError, match="No organization with id 404"):
        call_command("create_api_key", "--organization", 404, "--name", "x")


def test_setup_demo_prints_a_curl_that_performs_the_seed_edit(settings):
    settings.DEBUG = True
    out = io.StringIO()

    call_command("setup_demo", "--base-url", "http://testserver", stdout=out)
    call_command("setup_demo", stdout=io.StringIO())  # a second run adds a key, not a company

    assert Organization.objects.filter(name="Demo Company").count() == 1
    customer = Customer.objects.get(code="ACME")
    assert CustomerChange.objects.filter(customer_id=customer.pk, door="command").exists()
    printed = out.getvalue()
    key = next(w for w in printed.split() if w.startswith("bc_"))
    assert f"curl -sS -X PUT http://testserver/api/customers/{customer.pk}" in printed
    body = printed.split("-d ", 1)[1].strip().strip("'")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = api.put(f"/api/customers/{customer.pk}", body, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["displayName"] == "John Doe - Acme Corporation"
    assert response.json()["billingAddressPostcode"] == "10001"


def test_setup_demo_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("setup_demo")
