"""Back-office fixtures: staff of tenant A, a plain member of tenant A, and a superuser."""

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.test import Client

from organizations.models import Membership

from ..factories import MembershipFactory, UserFactory

BACK_OFFICE_APPS = ("customers", "organizations", "authkeys", "webhooks")


def make_staff(user):
    """Django's permissions say which pages; memberships say which organizations' rows."""
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label__in=BACK_OFFICE_APPS)
    )
    return user


def logged_in(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The currency filter caches its choices; each test starts without them."""
    cache.clear()


@pytest.fixture
def staff(tenant, other_tenant):
    """The owner of tenant A, with every back-office permission; other_tenant exists too."""
    return make_staff(tenant.owner)


@pytest.fixture
def staff_client(staff) -> Client:
    return logged_in(staff)


@pytest.fixture
def member_client(tenant, other_tenant) -> Client:
    """A staff member (not an owner) of tenant A."""
    member = make_staff(UserFactory())
    MembershipFactory(organization=tenant.organization, user=member, role=Membership.Role.MEMBER)
    return logged_in(member)


@pytest.fixture
def superuser_client(tenant, other_tenant) -> Client:
    return logged_in(UserFactory(is_staff=True, is_superuser=True))
