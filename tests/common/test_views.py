"""common.views.OrganizationScopedViewSet: a view cannot drop the organization scope by accident."""

import pytest
from rest_framework import viewsets
from rest_framework.test import APIRequestFactory

from authkeys.api_key_views import ApiKeyViewSet
from common.views import OrganizationScopedViewSet
from customers.api.views import CustomerViewSet
from customers.models import Customer


def test_the_apis_viewsets_are_scoped():
    for viewset in (CustomerViewSet, ApiKeyViewSet):
        assert issubclass(viewset, OrganizationScopedViewSet)
        assert viewset.get_queryset is OrganizationScopedViewSet.get_queryset


@pytest.mark.parametrize("name", ["get_queryset", "scoped_queryset"])
def test_a_subclass_that_overrides_the_scope_is_refused_when_defined(name):
    with pytest.raises(TypeError, match=f"overrides {name}.*dangerously_get_queryset"):
        type("Leaky", (OrganizationScopedViewSet,), {name: lambda self: Customer.objects.all()})


def test_an_override_from_a_mixin_is_refused_too():
    class AllRows:
        def get_queryset(self):
            return Customer.objects.all()

    with pytest.raises(TypeError, match="overrides get_queryset"):
        type("Leaky", (AllRows, OrganizationScopedViewSet), {})


def test_an_unscoped_queryset_attribute_is_refused():
    with pytest.raises(TypeError, match="sets queryset"):
        type(
            "Leaky",
            (OrganizationScopedViewSet, viewsets.ModelViewSet),
            {"queryset": Customer.objects.all()},
        )


@pytest.mark.django_db
def test_the_escape_hatch_is_explicit_and_used(tenant, other_tenant):
    class EveryCustomer(OrganizationScopedViewSet):
        model = Customer

        def dangerously_get_queryset(self):
            return Customer.objects.all()

    class Scoped(OrganizationScopedViewSet):
        model = Customer

    request = APIRequestFactory().get("/")
    request.auth = type("Principal", (), {"organization": tenant.organization})()
    every, scoped = EveryCustomer(request=request), Scoped(request=request)

    assert set(every.get_queryset()) == set(Customer.objects.all())
    assert {c.organization_id for c in scoped.get_queryset()} == {tenant.organization.pk}
    assert other_tenant.customer not in set(scoped.get_queryset())
