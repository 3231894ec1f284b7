"""The feed under concurrent writers, on PostgreSQL: each thread has its own connection and
transaction, held open across the others'."""

import itertools
import random
import threading
import time

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from common.actors import Actor, Door
from customers import events, services
from customers.models import CustomerChange

from ..factories import CustomerFactory

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

ACTOR = Actor(door=Door.COMMAND)


def reader(tenant) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tenant.key}")
    return api


def read_on(api, cursor: str) -> tuple[list[dict], str]:
    """Every event after `cursor`, following the pages; and the cursor to go on from."""
    seen = []
    while True:
        page = api.get("/api/events", {"after": cursor, "limit": 50}).json()
        seen += page["events"]
        cursor = page["nextCursor"]
        if not page["hasMore"]:
            return seen, cursor


def in_thread(target) -> threading.Thread:
    def run():
        try:
            target()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def edit(tenant, customer, note):
    services.customer_update(
        organization=tenant.organization,
        customer_id=customer.pk,
        changes={"note": note},
        actor=ACTOR,
    )


def test_a_transaction_holding_its_events_keeps_later_ones_from_the_feed_until_it_commits(tenant):
    first, second = CustomerFactory.create_batch(2, organization=tenant.organization)
    numbered, release = threading.Event(), threading.Event()

    def slow():
        with transaction.atomic():
            edit(tenant, first, "first")  # numbered: position 1, the counter locked
            numbered.set()
            release.wait(10)

    def quick():
        with transaction.atomic():
            edit(tenant, second, "second")  # waits for the counter until `slow` commits

    slow_thread = in_thread(slow)
    numbered.wait(10)
    quick_thread = in_thread(quick)
    time.sleep(0.3)
    api = reader(tenant)

    before, cursor = read_on(api, "0")
    assert before == []
    assert quick_thread.is_alive()  # its commit waits behind the open transaction
    release.set()
    slow_thread.join()
    quick_thread.join()
    after, _ = read_on(api, cursor)

    assert [(e["position"], e["customer"]["note"]) for e in after] == [(1, "first"), (2, "second")]


def test_an_import_numbered_at_its_end_is_not_skipped_by_a_reader_that_read_past_its_ids(tenant):
    """A bulk import writes its history first and numbers it at its end: its ids are older than
    those of an edit that commits meanwhile, and a reader following ids would skip it."""
    imported, edited = CustomerFactory.create_batch(2, organization=tenant.organization)
    written, release = threading.Event(), threading.Event()

    def bulk():
        with transaction.atomic():
            CustomerChange.objects.create(  # as the set-wise import writes its history
                organization=tenant.organization,
                customer_id=imported.pk,
                customer_display_name=imported.display_name,
                action=CustomerChange.Action.UPDATE,
                door=Door.IMPORT,
                changes={},
            )
            written.set()
            release.wait(10)
            events.number_pending(tenant.organization.pk)

    bulk_thread = in_thread(bulk)
    written.wait(10)
    in_thread(lambda: edit(tenant, edited, "meanwhile")).join()
    api = reader(tenant)
    first_read, cursor = read_on(api, "0")
    release.set()
    bulk_thread.join()
    second_read, _ = read_on(api, cursor)

    assert [e["customerId"] for e in first_read] == [edited.pk]
    assert [e["customerId"] for e in second_read] == [imported.pk]
    assert second_read[0]["id"] < first_read[0]["id"]  # older id, later in the feed
    assert second_read[0]["customer"]["displayName"] == imported.display_name


def test_a_reader_following_the_cursor_sees_every_event_once_in_commit_order(tenant):
    customers = CustomerFactory.create_batch(3, organization=tenant.organization)
    writers, edits_each = 4, 15
    done = threading.Event()
    seen = []

    def write(number):
        rng = random.Random(number)  # noqa: S311 (timing jitter, not secrets)
        for edit_number in range(edits_each):
            with transaction.atomic():
                edit(tenant, rng.choice(customers), f"writer {number} edit {edit_number}")
                time.sleep(rng.random() / 200)  # held open across the others' transactions

    def read():
        api, cursor = reader(tenant), "0"
        while not done.is_set():
            page, cursor = read_on(api, cursor)
            seen.extend(page)
        page, cursor = read_on(api, cursor)
        seen.extend(page)

    reader_thread = in_thread(read)
    threads = [in_thread(lambda n=n: write(n)) for n in range(writers)]
    for thread in threads:
        thread.join()
    done.set()
    reader_thread.join()

    positions = [event["position"] for event in seen]
    assert positions == list(range(1, writers * edits_each + 1))  # each once, none missed
    assert {event["id"] for event in seen} == set(
        CustomerChange.objects.filter(organization=tenant.organization).values_list("id", flat=True)
    )
    for customer in customers:
        # In the order that customer's changes committed: each replaced the one before it.
        notes = [e["changes"]["note"] for e in seen if e["customerId"] == customer.pk]
        assert notes[0]["old"] == customer.note
        for before, after in itertools.pairwise(notes):
            assert after["old"] == before["new"]
