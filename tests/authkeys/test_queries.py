"""authkeys/queries.py: the authentication lookups, written as SQL, return what the ORM returns.

Compared field by field with the `select_related` queryset each replaces, on PostgreSQL and SQLite:
the same values of the same types (timestamps aware, in UTC; booleans as booleans), the same
related objects, loaded with the row, and the same instance state.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from authkeys import crypto, queries
from authkeys.models import ApiKey
from organizations.models import Membership, Organization, User
from tests.factories import MembershipFactory, issue_key

pytestmark = pytest.mark.django_db


def assert_same_instance(found, expected):
    assert type(found) is type(expected)
    for field in type(expected)._meta.concrete_fields:
        value, wanted = getattr(found, field.attname), getattr(expected, field.attname)
        assert (field.attname, value) == (field.attname, wanted)
        assert type(value) is type(wanted), field.attname
        if isinstance(wanted, datetime):
            assert value.utcoffset() == timedelta(0), field.attname
    assert (found._state.db, found._state.adding) == (expected._state.db, False)


def expected_api_key(digest: str) -> ApiKey:
    return ApiKey.objects.select_related("organization", "created_by").get(digest=digest)


@pytest.mark.parametrize(
    ("model", "fields"),
    [
        (ApiKey, queries.API_KEY_FIELDS),
        (Membership, queries.MEMBERSHIP_FIELDS),
        (Organization, queries.ORGANIZATION_FIELDS),
        (User, queries.USER_FIELDS),
    ],
)
def test_each_query_reads_every_field_of_its_models_in_declared_order(model, fields):
    # Model.from_db takes a full row's values in this order, whatever names it is given.
    assert fields == tuple(field.attname for field in model._meta.concrete_fields)


def test_api_key_lookup_matches_select_related_with_organization_and_creator(tenant, max_queries):
    now = timezone.now()
    User.objects.filter(pk=tenant.owner.pk).update(last_login=now - timedelta(days=1))
    ApiKey.objects.filter(pk=tenant.api_key.pk).update(
        last_used_at=now, expires_at=now + timedelta(days=30)
    )
    digest = crypto.digest(tenant.key)
    expected = expected_api_key(digest)

    with max_queries(1):  # the key; its organization and creator come with it
        found = queries.api_key_by_digest(digest)
        organization, creator = found.organization, found.created_by

    assert_same_instance(found, expected)
    assert_same_instance(organization, expected.organization)
    assert_same_instance(creator, expected.created_by)
    assert organization == tenant.organization
    assert creator == tenant.owner
    assert found.expires_at.tzinfo == UTC


def test_api_key_without_creator_has_none_loaded(tenant, max_queries):
    digest = crypto.digest(issue_key(tenant.organization, None))
    expected = expected_api_key(digest)

    with max_queries(1):
        found = queries.api_key_by_digest(digest)
        assert found.created_by is None

    assert_same_instance(found, expected)
    assert_same_instance(found.organization, expected.organization)


def test_unknown_digest_finds_nothing(tenant):
    assert queries.api_key_by_digest("0" * 64) is None


def test_api_key_lookup_finds_each_organizations_own_key(tenant, other_tenant):
    found = queries.api_key_by_digest(crypto.digest(other_tenant.key))

    assert found.pk == other_tenant.api_key.pk
    assert found.organization == other_tenant.organization
    assert found.created_by == other_tenant.owner


def test_membership_lookup_matches_select_related_with_user_and_organization(tenant, max_queries):
    expected = Membership.objects.select_related("user", "organization").get(
        user=tenant.owner, organization=tenant.organization
    )

    with max_queries(1):
        found = queries.membership_of(tenant.owner.pk, tenant.organization.pk)
        user, organization = found.user, found.organization

    assert_same_instance(found, expected)
    assert_same_instance(user, expected.user)
    assert_same_instance(organization, expected.organization)
    assert found.role == Membership.Role.OWNER


def test_membership_lookup_is_none_for_another_organization(tenant, other_tenant):
    assert queries.membership_of(tenant.owner.pk, other_tenant.organization.pk) is None
    assert queries.membership_of(tenant.owner.pk, 10**12) is None


def test_membership_lookup_finds_the_membership_of_the_organization_asked_for(tenant, other_tenant):
    MembershipFactory(user=tenant.owner, organization=other_tenant.organization, is_active=False)

    here = queries.membership_of(tenant.owner.pk, tenant.organization.pk)
    there = queries.membership_of(tenant.owner.pk, other_tenant.organization.pk)

    assert (here.organization, here.is_active) == (tenant.organization, True)
    assert (there.organization, there.is_active) == (other_tenant.organization, False)
    assert there.user == tenant.owner


@pytest.mark.postgres_only
def test_postgresql_plans_each_lookup_once_per_connection(tenant):
    runs = connection.settings_dict["OPTIONS"]["prepare_threshold"] + 1
    for _ in range(runs):  # psycopg prepares a statement on the run after the threshold
        queries.api_key_by_digest(crypto.digest(tenant.key))
        queries.membership_of(tenant.owner.pk, tenant.organization.pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = {statement.strip() for (statement,) in cursor.fetchall()}
    assert queries.API_KEY_BY_DIGEST.strip().replace("%s", "$1") in prepared
    assert (
        queries.MEMBERSHIP_BY_USER_AND_ORGANIZATION.strip()
        .replace("%s", "$1", 1)
        .replace("%s", "$2")
        in prepared
    )
