"""The compiled authentication lookups return what the ORM would, in one query."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from authkeys import crypto
from authkeys.authentication import BearerAuthentication
from authkeys.lookups import CompiledLookup
from authkeys.models import ApiKey
from organizations.models import Membership

pytestmark = pytest.mark.django_db


def test_api_key_lookup_matches_the_orm_with_joined_objects(tenant, max_queries):
    expected = ApiKey.objects.select_related("organization", "created_by").get(
        digest=crypto.digest(tenant.key)
    )
    with max_queries(1):
        found, usage = BearerAuthentication._find_api_key(crypto.digest(tenant.key))
        assert usage.count == 1
        assert found.organization.name == tenant.organization.name
        assert found.created_by.email == tenant.owner.email
    assert found == expected
    for field in ApiKey._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(expected, field.attname)
    assert BearerAuthentication._find_api_key("0" * 64) == (None, None)


def test_membership_lookup_matches_the_orm(tenant, other_tenant, max_queries):
    with max_queries(1):
        found, usage = BearerAuthentication._find_membership(
            tenant.owner.pk, tenant.organization.pk
        )
        assert usage.count == 1
        assert (found.user, found.organization, found.role) == (
            tenant.owner,
            tenant.organization,
            Membership.Role.OWNER,
        )
    assert BearerAuthentication._find_membership(tenant.owner.pk, other_tenant.organization.pk) == (
        None,
        None,
    )


def test_lookup_refuses_a_queryset_whose_parameters_are_out_of_order(db):
    swapped = CompiledLookup(
        Membership,
        lambda user_id, organization_id: Membership.objects.filter(
            organization_id=organization_id
        ).filter(user_id=user_id),
        sentinels=[1, 2],
    )
    with pytest.raises(ImproperlyConfigured, match="out of order"):
        swapped.get(1, 2)
