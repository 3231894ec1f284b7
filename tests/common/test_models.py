"""Instances loaded without Model.__init__ (common/models.py): the same instances, or Django's."""

from unittest import mock

import pytest
from django.db import models
from django.db.models.signals import post_init, pre_init

from authkeys.models import ApiKey
from customers.models import Customer

pytestmark = pytest.mark.django_db

LOADED_PLAINLY = [Customer]


def fields_of(instance: models.Model) -> dict:
    return {name: value for name, value in vars(instance).items() if name != "_state"}


@pytest.mark.parametrize("model", LOADED_PLAINLY, ids=lambda model: model.__name__)
def test_a_full_row_gives_the_instance_model_init_gives(tenant, model):
    with mock.patch.object(pre_init, "send") as init_signalled:
        loaded = model.objects.first()
    assert loaded is not None
    init_signalled.assert_not_called()  # Model.__init__ did not run

    row = model.objects.filter(pk=loaded.pk).values_list(
        *[field.attname for field in model._meta.concrete_fields]
    )[0]
    by_django = models.Model.from_db.__func__(model, "default", None, row)
    assert fields_of(loaded) == fields_of(by_django)
    assert (loaded._state.adding, loaded._state.db) == (False, "default")
    assert loaded.get_deferred_fields() == set()


def test_select_related_objects_are_loaded_plainly_and_attached(tenant):
    api_key = ApiKey.objects.select_related("organization", "created_by").get(
        organization=tenant.organization
    )

    with mock.patch.object(models.Model, "refresh_from_db") as queried:
        assert api_key.organization.name == tenant.organization.name
        assert api_key.created_by.email == tenant.owner.email
    queried.assert_not_called()
    assert api_key.organization._state.adding is False


def test_deferred_fields_are_left_to_django(tenant):
    customer = Customer.objects.only("display_name").get(pk=tenant.customer.pk)

    assert "email" in customer.get_deferred_fields()
    assert customer.email == tenant.customer.email  # loaded when read, as Django does


def test_a_model_with_init_receivers_is_built_by_model_init(tenant):
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.pk)

    post_init.connect(receiver, sender=Customer)
    try:
        customer = Customer.objects.get(pk=tenant.customer.pk)
    finally:
        post_init.disconnect(receiver, sender=Customer)

    assert seen == [customer.pk]


def test_an_edited_and_saved_instance_writes_its_row(tenant):
    customer = Customer.objects.get(pk=tenant.customer.pk)
    customer.display_name = "Renamed"
    customer.save(update_fields=["display_name"])

    assert Customer.objects.get(pk=customer.pk).display_name == "Renamed"
