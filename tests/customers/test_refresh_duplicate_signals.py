"""manage.py refresh_duplicate_signals."""

import io

import pytest
from django.core.management import CommandError, call_command

from customers.models import CustomerSignal
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_it_recomputes_signals_with_the_organizations_region(tenant, other_tenant):
    organization = tenant.organization
    customer = CustomerFactory(organization=organization, work_phone="(415) 555-0100")
    organization.phone_region = "US"
    organization.save()
    out = io.StringIO()

    call_command("refresh_duplicate_signals", "--organization", str(organization.pk), stdout=out)

    assert "Signals of 2 customers recomputed, and their duplicate pairs." in out.getvalue()
    assert ("phone", "+14155550100") in set(
        CustomerSignal.objects.filter(customer=customer).values_list("kind", "value")
    )
    assert not CustomerSignal.objects.filter(organization=other_tenant.organization).exists()


def test_an_unknown_organization_is_an_error():
    with pytest.raises(CommandError, match="No organization with id 999999"):
        call_command("refresh_duplicate_signals", "--organization", "999999")
