"""The back office's paginator: estimates big PostgreSQL counts, counts small ones exactly."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from common import paginators
from common.paginators import EstimatedCountPaginator
from customers.models import Customer

from ..factories import CustomerFactory


def test_a_small_list_is_counted_exactly(tenant):
    CustomerFactory.create_batch(4, organization=tenant.organization)

    paginator = EstimatedCountPaginator(Customer.objects.order_by("pk"), 2)

    assert (paginator.count, paginator.num_pages) == (5, 3)


def test_an_empty_scope_counts_zero_without_failing(db):
    assert EstimatedCountPaginator(Customer.objects.filter(pk__in=[]).order_by("pk"), 10).count == 0


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)  # as the admin's list pages run: in autocommit
def test_a_big_list_takes_the_planners_estimate_and_runs_no_count(tenant, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("estimates come from PostgreSQL's planner")
    monkeypatch.setattr(paginators, "EXACT_COUNT_BELOW", 0)
    paginator = EstimatedCountPaginator(Customer.objects.order_by("pk"), 10)

    with CaptureQueriesContext(connection) as queries:
        count = paginator.count

    assert count >= 0
    assert [query["sql"].split()[0] for query in queries] == ["EXPLAIN"]
