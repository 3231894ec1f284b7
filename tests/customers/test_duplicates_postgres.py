"""Duplicate candidates found through PostgreSQL's trigram index on the name keys."""

import pytest

from customers import duplicates

from ..factories import customer_created as make

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db]


def test_a_misspelt_name_is_a_candidate_through_the_trigram_index(tenant):
    globex = make(tenant, "Globex Industries")
    typo = make(tenant, "Globex Industires")

    [match] = duplicates.candidates(typo, tenant.organization)

    assert match.customer.pk == globex.pk
    assert match.reasons[0].startswith("display name 0.9")
