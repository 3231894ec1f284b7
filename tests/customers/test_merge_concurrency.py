"""Merges at once, on PostgreSQL (each thread has its own connection and transaction)."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from customers.models import Customer, CustomerChange, CustomerMerge

from ..factories import customer_created as make

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def race(tenant, calls):
    """POST each (path, body) from its own thread, released together; the responses."""
    barrier = threading.Barrier(len(calls))
    responses = []

    def run(path, body):
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {tenant.key}")
        try:
            barrier.wait()
            responses.append(api.post(path, body, format="json"))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


def test_two_merges_of_one_pair_at_once_one_wins_the_other_is_told(tenant):
    source = make(tenant, "ACME Corporation", email="billing@acme.test")
    target = make(tenant, "Acme Corp.")
    path = f"/api/customers/{source.pk}/merge"

    responses = race(tenant, [(path, {"into": target.pk})] * 2)

    assert sorted(response.status_code for response in responses) == [200, 404]
    [lost] = [response for response in responses if response.status_code == 404]
    assert lost.json()["errors"][0]["type"] == "CUSTOMER_MERGED"
    assert CustomerMerge.objects.count() == 1
    assert CustomerChange.objects.filter(action="merge").count() == 2
    assert Customer.objects.get(pk=target.pk).version == target.version + 1


def test_merges_of_a_pair_both_ways_at_once_leave_exactly_one_customer(tenant):
    a = make(tenant, "ACME Corporation")
    b = make(tenant, "Acme Corp.")

    responses = race(
        tenant,
        [
            (f"/api/customers/{a.pk}/merge", {"into": b.pk}),
            (f"/api/customers/{b.pk}/merge", {"into": a.pk}),
        ],
    )

    # The second, once the first commits, finds its survivor merged away.
    assert sorted(response.status_code for response in responses) == [200, 400]
    [lost] = [response for response in responses if response.status_code == 400]
    assert (lost.json()["errors"][0]["type"], lost.json()["errors"][0]["field"]) == (
        "CUSTOMER_MERGED",
        "into",
    )
    assert Customer.objects.filter(pk__in=[a.pk, b.pk]).count() == 1
    assert CustomerMerge.objects.count() == 1
