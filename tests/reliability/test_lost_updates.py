"""No lost updates on PostgreSQL: many writers, one customer, with and without If-Match."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from customers.models import CustomerChange

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

THREADS = 20
EDITS_PER_THREAD = 10


def run_writers(tenant, edits) -> list:
    """`edits(api, n)` in THREADS threads released together, each with its own API client and
    database connection; returns what they returned, in the order they finished."""
    results = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    def writer(n: int) -> None:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {tenant.key}")
        start.wait()
        try:
            for result in edits(api, n):
                with lock:
                    results.append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_20_threads_x_10_if_match_edits_apply_every_success_and_412_every_conflict(tenant):
    url = f"/api/customers/{tenant.customer.pk}"

    def edits(api, n):
        for i in range(EDITS_PER_THREAD):
            etag = api.get(url)["ETag"]
            note = f"thread {n} edit {i}"
            response = api.patch(url, {"note": note}, format="json", HTTP_IF_MATCH=etag)
            yield response.status_code, note, etag, response.get("ETag")

    results = run_writers(tenant, edits)

    statuses = [status for status, *_ in results]
    assert len(results) == THREADS * EDITS_PER_THREAD
    assert set(statuses) <= {200, 412}
    successes = [r for r in results if r[0] == 200]
    assert successes, "at least one writer must win"
    tenant.customer.refresh_from_db()
    # Every success bumped the version exactly once and left one history row.
    assert tenant.customer.version == 1 + len(successes)
    history = CustomerChange.objects.filter(customer_id=tenant.customer.pk)
    assert history.count() == len(successes)
    # Each success was applied on top of the version it read: no two share a starting ETag.
    assert len({etag for _, _, etag, _ in successes}) == len(successes)
    assert sorted(h.changes["note"][1] for h in history) == sorted(n for _, n, *_ in successes)


def test_20_threads_x_10_edits_without_if_match_all_apply_each_on_top_of_the_one_before(tenant):
    """Without If-Match the last write wins, but no edit is lost or refused: one that loses the
    race (its row changed after it read it) is made again under the row's lock. Each history row
    then starts from what the previous one wrote: no edit worked from a stale read."""
    url = f"/api/customers/{tenant.customer.pk}"

    def edits(api, n):
        for i in range(EDITS_PER_THREAD):
            yield api.patch(url, {"note": f"thread {n} edit {i}"}, format="json").status_code

    statuses = run_writers(tenant, edits)

    edits = THREADS * EDITS_PER_THREAD
    assert statuses == [200] * edits
    tenant.customer.refresh_from_db()
    assert tenant.customer.version == 1 + edits
    history = list(CustomerChange.objects.filter(customer_id=tenant.customer.pk).order_by("id"))
    assert len(history) == edits
    notes = [change.changes["note"] for change in history]
    assert notes[0][0] == ""
    assert all(notes[k][0] == notes[k - 1][1] for k in range(1, edits))
    assert notes[-1][1] == tenant.customer.note
