"""Webhook delivery through real processes: the API's changes, procrastinate's worker
(`manage.py procrastinate worker`, started here as production starts it) and an HTTP receiver on
loopback. What a receiver sees: every change, signed per Standard Webhooks, at least once, with
the same `webhook-id` on every attempt."""

import io
import os
import signal
import time

import pytest
from django.core.management import call_command
from standardwebhooks.webhooks import Webhook

from customers.models import Customer, CustomerChange
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def jobs():
    """procrastinate's jobs (its Django app is installed where the database is PostgreSQL)."""
    from procrastinate.contrib.django.models import ProcrastinateJob

    return ProcrastinateJob.objects


def rename(client, customer_id: int, name: str) -> None:
    response = client.patch(f"/api/customers/{customer_id}", {"displayName": name}, format="json")
    assert response.status_code == 200, response.content


def delivery_of(request) -> WebhookDelivery:
    return WebhookDelivery.objects.get(event_id=int(request.webhook_id.removeprefix("evt_")))


def wait_until(ready, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        assert time.monotonic() < deadline, f"{what} within {seconds} s"
        time.sleep(0.05)


def test_a_change_arrives_signed_and_verifies_with_the_standard_webhooks_library(
    tenant, key_client, endpoint, receiver, workers
):
    workers()
    rename(key_client, tenant.customer.pk, "Renamed Ltd")

    [request] = receiver.wait_for(1)

    payload = Webhook(endpoint.secret).verify(request.body, request.headers)
    event = CustomerChange.objects.get(customer_id=tenant.customer.pk, action="update")
    assert request.webhook_id == f"evt_{event.pk}"
    assert payload["type"] == "customer.edited"
    assert payload["data"]["changes"]["displayName"] == {
        "old": tenant.customer.display_name,
        "new": "Renamed Ltd",
    }
    assert (
        payload["data"]["customer"] == key_client.get(f"/api/customers/{tenant.customer.pk}").json()
    )
    assert payload["data"] == key_client.get("/api/events").json()["events"][-1]
    wait_until(lambda: delivery_of(request).status == "succeeded", "the delivery recorded")
    with pytest.raises(Exception, match="signature"):
        Webhook("whsec_" + "A" * 43 + "=").verify(request.body, request.headers)


def test_a_receiver_answering_500_twice_then_200_gets_the_same_webhook_id_three_times(
    tenant, key_client, endpoint, receiver, workers
):
    receiver.answer = lambda n, webhook_id: 500 if n <= 2 else 200
    workers()
    rename(key_client, tenant.customer.pk, "Flaky")

    requests = receiver.wait_for(3)

    assert len({request.webhook_id for request in requests}) == 1
    for request in requests:
        Webhook(endpoint.secret).verify(request.body, request.headers)
    wait_until(lambda: delivery_of(requests[0]).status == "succeeded", "success recorded")
    delivery = delivery_of(requests[0])
    assert (delivery.attempts, delivery.response_status) == (3, 200)


def test_a_receiver_that_hangs_is_timed_out_and_tried_again(
    tenant, key_client, endpoint, receiver, workers
):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(timeout_seconds=1)
    receiver.answer = lambda n, webhook_id: ("hang", 5) if n == 1 else 200
    workers()
    rename(key_client, tenant.customer.pk, "Slow")

    wait_until(lambda: receiver.counts and max(receiver.counts.values()) >= 2, "a second try")
    [webhook_id] = receiver.counts
    delivery = WebhookDelivery.objects.get(event_id=int(webhook_id.removeprefix("evt_")))
    wait_until(lambda: WebhookDelivery.objects.get(pk=delivery.pk).status == "succeeded", "success")
    assert WebhookDelivery.objects.get(pk=delivery.pk).attempts == 2


def test_a_worker_killed_mid_delivery_loses_nothing(
    tenant, key_client, endpoint, receiver, workers
):
    receiver.answer = lambda n, webhook_id: ("hang", 60) if n == 1 else 200
    first = workers()
    rename(key_client, tenant.customer.pk, "Interrupted")
    wait_until(lambda: receiver.counts, "the first attempt to arrive")

    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    workers()

    wait_until(lambda: sum(receiver.counts.values()) >= 2, "the delivery after the restart", 60)
    [webhook_id] = receiver.counts
    delivery = WebhookDelivery.objects.get(event_id=int(webhook_id.removeprefix("evt_")))
    wait_until(lambda: WebhookDelivery.objects.get(pk=delivery.pk).status == "succeeded", "success")


def test_deliveries_about_one_customer_keep_their_order_through_retries(
    tenant, key_client, endpoint, receiver, workers
):
    first_event = []

    def answer(n, webhook_id):
        if not first_event:
            first_event.append(webhook_id)
        return 500 if webhook_id == first_event[0] and n <= 2 else 200

    receiver.answer = answer
    for name in ("One", "Two", "Three"):
        rename(key_client, tenant.customer.pk, name)
    workers()

    requests = receiver.wait_for(5)

    names = [request.payload["data"]["customer"]["displayName"] for request in requests]
    assert names == ["One", "One", "One", "Two", "Three"]


def test_two_workers_deliver_a_thousand_events_none_by_both_at_once(
    tenant, endpoint, receiver, workers, tmp_path
):
    workers()
    workers()
    rows = "".join(f"business,Bulk {n},BULK-{n},USD\n" for n in range(1000))
    path = tmp_path / "customers.csv"
    path.write_text("customerType,displayName,code,currencyCode\n" + rows)
    call_command(
        "import_customers",
        str(path),
        "--organization",
        tenant.organization.pk,
        stdout=io.StringIO(),
    )

    receiver.wait_for(1000, seconds=60)

    time.sleep(1)  # a second copy, if one were coming, would arrive now
    ids = receiver.ids()
    assert len(ids) == 1000
    assert len(set(ids)) == 1000
    assert receiver.overlaps == []
    assert WebhookDelivery.objects.filter(status="succeeded").count() == 1000


def test_an_endpoint_failing_past_the_limit_is_disabled_and_stops_receiving(
    tenant, key_client, endpoint, receiver, workers
):
    receiver.answer = lambda n, webhook_id: 503
    workers(WEBHOOK_DISABLE_AFTER_DAYS=f"{2 / 86400:.10f}")  # two seconds
    rename(key_client, tenant.customer.pk, "Never")

    wait_until(
        lambda: not WebhookEndpoint.objects.get(pk=endpoint.pk).is_active, "the endpoint disabled"
    )
    endpoint.refresh_from_db()
    assert endpoint.disabled_at is not None
    assert WebhookDelivery.objects.get().status == "failed"
    tenant.organization.refresh_from_db()
    assert not tenant.organization.delivers_webhooks
    tried = sum(receiver.counts.values())

    rename(key_client, tenant.customer.pk, "Ignored")
    time.sleep(1.5)

    assert sum(receiver.counts.values()) == tried
    assert not jobs().filter(task_name="webhooks.dispatch", status="todo")


def test_an_endpoint_made_while_a_change_was_in_flight_still_gets_it(
    tenant, key_client, endpoint, receiver, workers
):
    """The change's transaction read `delivers_webhooks` before the endpoint existed: no dispatch
    job was queued with it, and the worker's sweep finds the endpoint behind the feed."""
    type(tenant.organization).objects.filter(pk=tenant.organization.pk).update(
        delivers_webhooks=False
    )
    rename(key_client, tenant.customer.pk, "Unannounced")
    assert not jobs().filter(task_name="webhooks.dispatch").exists()

    workers()

    [request] = receiver.wait_for(1)
    assert request.payload["data"]["customer"]["displayName"] == "Unannounced"


def test_customers_of_organizations_without_webhooks_queue_no_jobs(tenant, key_client):
    rename(key_client, tenant.customer.pk, "Quiet")

    assert not jobs().exists()
    assert Customer.objects.get(pk=tenant.customer.pk).display_name == "Quiet"
