from datetime import UTC, datetime
from decimal import Decimal

from customers.api.serializers import CustomerSerializer, customer_data
from customers.fields import FIELDS
from tests.factories import CustomerFactory


def test_customer_data_is_the_serializers_representation_of_every_field(tenant):
    customer = CustomerFactory(
        organization=tenant.organization,
        code="C-1",
        email="a@example.com",
        opening_balance=Decimal("1500.000"),
        opening_balance_at=datetime(2024, 1, 1, tzinfo=UTC),
        opening_balance_exchange_rate=Decimal("1.250000000"),
        opening_balance_branch=tenant.branch,
        balance=Decimal("1499.500"),
    )
    customer.refresh_from_db()

    data = customer_data(customer)

    assert data == CustomerSerializer(customer).data
    assert list(data) == [field.name for field in FIELDS]
    assert data["openingBalance"] == 1500
    assert isinstance(data["openingBalance"], int)
    assert data["localOpeningBalance"] == 1875
    assert data["openingBalanceBranchId"] == tenant.branch.pk


def test_customer_data_gives_each_customer_its_own_values(tenant, other_tenant):
    first, second = customer_data(tenant.customer), customer_data(other_tenant.customer)

    assert first["id"] == tenant.customer.pk
    assert second["id"] == other_tenant.customer.pk
    assert first["displayName"] == tenant.customer.display_name
    assert second["displayName"] == other_tenant.customer.display_name


def test_customer_data_leaves_empty_values_as_the_serializer_does(tenant):
    customer = CustomerFactory(
        organization=tenant.organization,
        code=None,
        opening_balance_at=None,
        opening_balance_branch=None,
        website="",
        active=False,
    )
    customer.refresh_from_db()

    data = customer_data(customer)

    assert data == CustomerSerializer(customer).data
    assert (data["code"], data["openingBalanceAt"], data["openingBalanceBranchId"]) == (
        None,
        None,
        None,
    )
    assert (data["website"], data["active"]) == ("", False)
