"""The jobs of webhook delivery, run by procrastinate's worker (`manage.py procrastinate worker`).

Why procrastinate: its jobs live in our PostgreSQL, so a change queues its dispatch job inside
its own transaction (receivers.queue_dispatch): the job exists exactly when the change commits,
with no broker to run and nothing to reconcile. Its locks run the jobs that share one in the
order they were queued, one at a time, whatever the number of workers and machines; its retries
are jobs scheduled in the database; its workers' heartbeats find the jobs of a killed worker.

- `dispatch(organization_id)`: one at a time per organization (lock), turns the events after
  each active endpoint's cursor into deliveries and queues them (services.fan_out).
- `deliver(organization_id, endpoint_id, event_id)`: one attempt (services.attempt). Deliveries
  to one endpoint about one customer share a lock, so they go out in event order, retries
  included. A failure is retried with exponential back-off and jitter (DeliveryRetry) until
  WEBHOOK_RETRY_DAYS have passed. A job queued twice (a dispatcher that died before moving its
  cursor) finds its delivery done and sends nothing.
- `sweep`, every minute (WEBHOOK_SWEEP_CRON): dispatches organizations whose endpoints lag the
  feed (an endpoint made while a change was in flight), and retries the jobs of stalled workers.
- `purge`, hourly: deletes finished deliveries older than EVENT_RETENTION_DAYS (the events they
  carried are gone from the feed by then) and the finished jobs of this queue as old, and, as the
  worker's housekeeping, brings every organization's duplicate report up to date with its
  identity-signal changes (customers.duplicates.catch_up_all).
"""

import random

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Subquery
from procrastinate import BaseRetryStrategy, RetryDecision
from procrastinate.contrib.django import app

from customers import duplicates, events
from customers.models import EventCounter

from . import services
from .models import WebhookDelivery, WebhookEndpoint

QUEUE = "webhooks"


class DeliveryFailed(Exception):
    """The endpoint did not take the delivery; the job engine tries again later."""


class DeliveryRetry(BaseRetryStrategy):
    """Exponential back-off with jitter: about base * 2^n, between half and all of it, at most
    WEBHOOK_RETRY_MAX_SECONDS; without end here: the task stops raising once the delivery's
    retry window has passed (services.attempt)."""

    def get_retry_decision(self, *, exception, job):
        ceiling = min(
            settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** min(job.attempts, 32),
            settings.WEBHOOK_RETRY_MAX_SECONDS,
        )
        return RetryDecision(retry_in={"seconds": ceiling / 2 + random.uniform(0, ceiling / 2)})  # noqa: S311


def dispatch_lock(organization_id: int) -> str:
    return f"webhooks:dispatch:{organization_id}"


def delivery_lock(delivery: WebhookDelivery) -> str:
    return f"webhooks:endpoint:{delivery.endpoint_id}:customer:{delivery.customer_id}"


@app.task(name="webhooks.dispatch", queue=QUEUE, retry=DeliveryRetry())
def dispatch(organization_id: int) -> None:
    with transaction.atomic():
        endpoints = WebhookEndpoint.objects.select_for_update().filter(
            organization_id=organization_id, is_active=True
        )
        for endpoint in endpoints.order_by("pk"):
            queue_deliveries(services.fan_out(endpoint))


def queue_deliveries(deliveries: list[WebhookDelivery]) -> None:
    """One deliver job per delivery, locked per endpoint and customer (consecutive deliveries of
    one customer share one statement). In an app server the jobs commit with the caller's
    transaction; the worker queues over its own connection, and a job that starts before the
    dispatcher's rows have committed waits for them (services.attempt)."""
    start = 0
    while start < len(deliveries):
        lock = delivery_lock(deliveries[start])
        end = start + 1
        while end < len(deliveries) and delivery_lock(deliveries[end]) == lock:
            end += 1
        deliver.configure(lock=lock).batch_defer(
            *(
                {
                    "organization_id": delivery.organization_id,
                    "endpoint_id": delivery.endpoint_id,
                    "event_id": delivery.event_id,
                }
                for delivery in deliveries[start:end]
            )
        )
        start = end


@app.task(name="webhooks.deliver", queue=QUEUE, retry=DeliveryRetry())
def deliver(organization_id: int, endpoint_id: int, event_id: int) -> None:
    outcome = services.attempt(
        organization_id=organization_id, endpoint_id=endpoint_id, event_id=event_id
    )
    if outcome.retry:
        raise DeliveryFailed(outcome.error)


@app.periodic(cron=settings.WEBHOOK_SWEEP_CRON)
@app.task(name="webhooks.sweep", queue=QUEUE, queueing_lock="webhooks:sweep")
async def sweep(timestamp: int) -> None:
    await sync_to_async(_dispatch_lagging)()
    stalled = await app.job_manager.get_stalled_jobs(
        queue=QUEUE, seconds_since_heartbeat=settings.WEBHOOK_STALLED_AFTER_SECONDS
    )
    for job in stalled:
        await app.job_manager.retry_job(job)


@app.periodic(cron="17 * * * *")
@app.task(name="webhooks.purge", queue=QUEUE, queueing_lock="webhooks:purge")
async def purge(timestamp: int) -> None:
    await sync_to_async(services.purge_expired)()
    await sync_to_async(duplicates.catch_up_all)()
    await app.job_manager.delete_old_jobs(
        nb_hours=int(events.retention().total_seconds() // 3600),
        queue=QUEUE,
        include_failed=True,
        include_cancelled=True,
        include_aborted=True,
    )


def _dispatch_lagging() -> None:
    head = EventCounter.objects.filter(organization_id=OuterRef("organization_id")).values("last")
    lagging = (
        WebhookEndpoint.objects.filter(is_active=True, cursor__lt=Subquery(head[:1]))
        .values_list("organization_id", flat=True)
        .distinct()
    )
    for organization_id in lagging:
        queue_dispatch(organization_id)


def queue_dispatch(organization_id: int) -> None:
    """Queue the organization's dispatch job; in an app server, in the caller's transaction."""
    dispatch.configure(lock=dispatch_lock(organization_id)).defer(organization_id=organization_id)
