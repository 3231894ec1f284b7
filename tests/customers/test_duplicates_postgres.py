"""Duplicate candidates found through PostgreSQL's trigram index on the name keys."""

import pytest

from common.actors import Actor, Door
from customers import duplicates, services
from customers.models import Customer

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db]


def make(tenant, display_name, **values) -> Customer:
    return services.customer_create(
        organization=tenant.organization,
        data={
            "customer_type": "business",
            "display_name": display_name,
            "currency_code": "USD",
            **values,
        },
        actor=Actor(door=Door.COMMAND),
    )


def test_a_misspelt_name_is_a_candidate_through_the_trigram_index(tenant):
    globex = make(tenant, "Globex Industries")
    typo = make(tenant, "Globex Industires")

    [match] = duplicates.candidates(typo, tenant.organization)

    assert match.customer.pk == globex.pk
    assert match.reasons[0].startswith("display name 0.9")
