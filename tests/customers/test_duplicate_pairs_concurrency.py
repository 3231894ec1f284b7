"""The stored duplicate report under concurrent writers, on PostgreSQL: each thread has its own
connection and transaction."""

import random
import threading
import traceback

import pytest
from django.db import transaction

from common.actors import Actor, Door
from customers import duplicates, services
from customers.models import CustomerDuplicatePair, CustomerSignalChange

from .test_duplicate_pairs import computed, create, stored
from .test_events_concurrency import in_thread

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

ACTOR = Actor(door=Door.COMMAND)
NAMES = ["Acme Corp.", "ACME Corporation", "Globex", "Globex Inc", "Initech"]
EMAILS = ["billing@acme.test", "ap@globex.test", "BILLING@acme.test ", "info@initech.test"]


@pytest.fixture
def us(tenant):
    tenant.organization.phone_region = "US"
    tenant.organization.save()
    return tenant.organization


def test_a_catch_up_waits_for_a_write_in_flight_and_then_sees_it(us):
    acme = create(us, "Acme Corp.", "billing@acme.test")
    globex = create(us, "Globex", "ap@globex.test")
    written, release = threading.Event(), threading.Event()

    def writer():
        with transaction.atomic():
            services.customer_update(
                organization=us,
                customer_id=globex.pk,
                changes={"email": "BILLING@acme.test"},
                actor=ACTOR,
            )
            written.set()
            release.wait(10)

    writing = in_thread(writer)
    assert written.wait(10)
    catching_up = in_thread(lambda: duplicates.catch_up(us.pk))
    catching_up.join(0.5)
    assert catching_up.is_alive()  # it holds the counter only after the write commits

    release.set()
    writing.join(10)
    catching_up.join(10)

    # The one catch-up saw the write it waited for: the shared e-mail is a pair, nothing is left.
    assert not CustomerSignalChange.objects.filter(organization=us).exists()
    pairs = CustomerDuplicatePair.objects.filter(organization=us)
    assert list(pairs.values_list("first_id", "second_id")) == [(acme.pk, globex.pk)]
    assert stored(us) == computed(us)


def test_catch_ups_racing_writers_leave_the_pairs_of_the_last_write(us):
    customers = [create(us, name, email) for name, email in zip(NAMES, EMAILS * 2, strict=False)]
    ids = [customer.pk for customer in customers]
    failures = []

    def writer(seed):
        draw = random.Random(seed)  # noqa: S311 - a repeatable sequence of writes
        try:
            for _ in range(15):
                changes = draw.choice(
                    [{"display_name": draw.choice(NAMES)}, {"email": draw.choice(EMAILS).strip()}]
                )
                services.customer_update(
                    organization=us, customer_id=draw.choice(ids), changes=changes, actor=ACTOR
                )
        except Exception as error:  # reported below, in the test's thread
            failures.append((error, traceback.format_exc()))

    def reader():
        try:
            for _ in range(15):
                duplicates.pairs(us, page=1, page_size=12)
        except Exception as error:
            failures.append((error, traceback.format_exc()))

    threads = [in_thread(lambda seed=seed: writer(seed)) for seed in range(3)]
    threads += [in_thread(reader) for _ in range(2)]
    for thread in threads:
        thread.join(60)

    assert failures == []
    assert stored(us) == computed(us)
    assert not CustomerSignalChange.objects.filter(organization=us).exists()
