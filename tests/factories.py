from datetime import UTC, datetime
from decimal import Decimal

import factory

from authkeys.services import api_key_create
from common.actors import Actor, Door
from customers import services
from customers.models import Customer
from organizations.models import Branch, Membership, Organization, User

PASSWORD = "correct horse battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    password = factory.django.Password(PASSWORD)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organization {n}")
    base_currency = "USD"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.MEMBER


class BranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Branch

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Branch {n}")
    code = factory.Sequence(lambda n: f"B{n}")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    organization = factory.SubFactory(OrganizationFactory)
    customer_type = Customer.CustomerType.BUSINESS
    display_name = factory.Faker("company")
    currency_code = "USD"


def seed_customer(organization: Organization, branch: Branch) -> Customer:
    """The customer the reference page's example response describes, before the edit."""
    return CustomerFactory(
        organization=organization,
        display_name="Old name",
        currency_code="USD",
        opening_balance=Decimal(1000),
        opening_balance_at=datetime(2024, 1, 1, tzinfo=UTC),
        opening_balance_exchange_rate=Decimal(1),
        opening_balance_branch=branch,
        balance=Decimal(1500),
    )


def issue_key(organization: Organization, user: User | None = None, **kwargs) -> str:
    return api_key_create(organization=organization, name="test", created_by=user, **kwargs).key


def customer_created(tenant, display_name: str, **values) -> Customer:
    """A business customer made through customers.services, as a command makes one (its identity
    signals, history and event written too), for tests of what the services keep."""
    data = {"customer_type": "business", "display_name": display_name, "currency_code": "USD"}
    return services.customer_create(
        organization=tenant.organization,
        data={**data, **values},
        actor=Actor(door=Door.COMMAND),
    )
