"""Two organizations everywhere, so every test can ask: and the other tenant?"""

import re
from dataclasses import dataclass

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from authkeys.models import ApiKey
from cluster import citus
from customers.models import Customer
from organizations.models import Branch, Membership, Organization, User

from . import budgets
from .factories import (
    BranchFactory,
    CustomerFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
    issue_key,
)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """On a Citus coordinator the test database is laid out over the cluster as production's is
    (tests/citus/ says how to run the suite there)."""
    with django_db_blocker.unblock():
        if citus.installed(connection) != budgets.CITUS:
            pytest.exit("COUNTERPART_TEST_CITUS=1 goes with a Citus coordinator (make test-citus)")
        if budgets.CITUS:
            call_command("distribute_tables", verbosity=0)


@dataclass
class Tenant:
    organization: Organization
    owner: User
    branch: Branch
    key: str
    customer: Customer

    @property
    def api_key(self) -> ApiKey:
        return ApiKey.objects.get(organization=self.organization)


def make_tenant(name: str) -> Tenant:
    organization = OrganizationFactory(name=name)
    owner = UserFactory()
    MembershipFactory(organization=organization, user=owner, role=Membership.Role.OWNER)
    return Tenant(
        organization=organization,
        owner=owner,
        branch=BranchFactory(organization=organization, is_primary=True),
        key=issue_key(organization, owner),
        customer=CustomerFactory(organization=organization),
    )


@pytest.fixture
def tenant(db) -> Tenant:
    return make_tenant("Tenant A")


@pytest.fixture
def other_tenant(db) -> Tenant:
    return make_tenant("Tenant B")


@pytest.fixture
def client() -> APIClient:
    return APIClient()


@pytest.fixture
def key_client(tenant) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tenant.key}")
    return api


def access_token(user: User) -> str:
    return str(RefreshToken.for_user(user).access_token)


@pytest.fixture
def jwt_client(tenant) -> APIClient:
    api = APIClient()
    api.credentials(
        HTTP_AUTHORIZATION=f"Bearer {access_token(tenant.owner)}",
        HTTP_ORGANIZATION_ID=str(tenant.organization.pk),
    )
    return api


_TRANSACTION_CONTROL = re.compile(
    r"^\s*(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT)\b", re.I
)


@pytest.fixture
def max_queries():
    """`with max_queries(3):` fails if the block runs more than 3 statements, savepoints aside."""

    class Budget:
        def __init__(self, limit):
            self.limit = limit
            self.context = CaptureQueriesContext(connection)

        def __enter__(self):
            self.context.__enter__()
            return self

        def __exit__(self, *exc):
            self.context.__exit__(*exc)
            if exc[0] is not None:
                return
            statements = [
                q["sql"]
                for q in self.context.captured_queries
                if not _TRANSACTION_CONTROL.match(q["sql"])
            ]
            assert len(statements) <= self.limit, (
                f"{len(statements)} queries, budget {self.limit}:\n" + "\n".join(statements)
            )

    return Budget


def pytest_runtest_setup(item):
    if item.get_closest_marker("postgres_only") and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite has no row locks or concurrent writers")


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit counters are keyed by ids, which a new test database can hand out again."""
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()
