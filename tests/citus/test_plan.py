"""The cluster's plan (cluster/citus.py) covers the schema; these run on any database."""

from django.apps import apps

from cluster import citus

# Models whose tables stay on the coordinator: neither big nor joined with the book.
COORDINATOR_ONLY = {"authkeys.RateLimitCounter"}


def test_every_model_that_names_an_organization_has_a_place_on_the_cluster():
    placed = {*citus.DISTRIBUTED, *citus.REFERENCE}
    unplaced = [
        model._meta.label
        for model in apps.get_models()
        if model not in placed
        and model._meta.label not in COORDINATOR_ONLY
        and any(
            getattr(field, "related_model", None) in (citus.Organization,)
            for field in model._meta.get_fields()
            if field.concrete
        )
    ]

    assert unplaced == [], "add them to cluster/citus.py: DISTRIBUTED if they grow with the book"


def test_every_distributed_table_names_its_organization_in_each_unique_constraint():
    for model in citus.DISTRIBUTED:
        assert model._meta.get_field("organization").column == citus.DISTRIBUTION_COLUMN
        for constraint in model._meta.total_unique_constraints:
            assert "organization" in constraint.fields, (model, constraint.name)
        for field in model._meta.concrete_fields:
            assert not field.unique or field.primary_key or field.name == "organization", (
                model,
                field.name,
            )
