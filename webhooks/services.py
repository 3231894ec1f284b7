"""Every write to webhook endpoints and deliveries, whichever door (API, admin, the worker).

- Endpoints: `endpoint_create`, `endpoint_change`, `endpoint_toggle`, `endpoint_delete`. Each keeps
  `Organization.delivers_webhooks` true exactly while an active endpoint exists, so that changes
  queue the dispatch job only where someone listens (customers.events.announce).
- `fan_out`: the dispatcher's step. Turns the events after an endpoint's cursor into deliveries
  (one per event the endpoint receives) and moves the cursor, in the caller's transaction.
- `attempt`: one delivery attempt, over HTTP, signed per Standard Webhooks, and its outcome.

Delivery is at least once: an attempt whose answer is lost (a worker killed mid-request) is made
again with the same `webhook-id`, which receivers use to drop the repeat.
"""

import base64
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

import urllib3
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from common.errors import ApplicationError
from customers import events
from customers.api.events import EventSerializer
from customers.models import CustomerChange
from organizations.models import Organization, User

from . import addresses
from .models import WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

FAN_OUT_BATCH = 1000
USER_AGENT = "Counterpart-Webhooks/1"
Status = WebhookDelivery.Status


def available() -> bool:
    """Deliveries are jobs of procrastinate, which keeps them in PostgreSQL."""
    return connection.vendor == "postgresql"


def require_available() -> None:
    if not available():
        raise ApplicationError(
            501,
            "WEBHOOKS_UNAVAILABLE",
            "Webhooks are delivered by the job worker, which keeps its jobs in PostgreSQL; this "
            "server runs on SQLite. The event feed (GET /api/events) works on either.",
        )


def new_secret() -> str:
    """A Standard Webhooks signing secret: whsec_ and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def check_url(url: str) -> None:
    try:
        addresses.check_url(url)
    except addresses.UnsafeURL as error:
        raise ApplicationError(400, "VALIDATION_ERROR", str(error), field="url") from None


@transaction.atomic
def endpoint_create(
    *,
    organization: Organization,
    name: str,
    url: str,
    event_types: list[str],
    timeout_seconds: int | None = None,
    created_by: User | None = None,
) -> WebhookEndpoint:
    """A new active endpoint; it receives the events that commit after it does."""
    require_available()
    check_url(url)
    endpoint = WebhookEndpoint.objects.create(
        organization=organization,
        name=name,
        url=url,
        events=event_types,
        secret=new_secret(),
        timeout_seconds=timeout_seconds or settings.WEBHOOK_TIMEOUT_SECONDS,
        cursor=events.last_position(organization.pk),
        created_by=created_by,
    )
    _keep_flag(organization)
    return endpoint


@transaction.atomic
def endpoint_change(*, endpoint: WebhookEndpoint, **changes) -> WebhookEndpoint:
    """Rename, re-point, re-subscribe or re-time an endpoint (`name`, `url`, `events`,
    `timeout_seconds`); its secret and its place in the feed stay."""
    require_available()
    if "url" in changes:
        check_url(changes["url"])
    for attribute, value in changes.items():
        setattr(endpoint, attribute, value)
    endpoint.updated_at = timezone.now()
    _scoped(endpoint).update(**changes, updated_at=endpoint.updated_at)
    return endpoint


@transaction.atomic
def endpoint_toggle(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Deactivate an active endpoint, or activate an inactive one (one that delivery disabled
    included). Events written while it was inactive are not sent to it; the feed keeps them."""
    require_available()
    endpoint = WebhookEndpoint.objects.select_for_update().get(
        organization_id=endpoint.organization_id, pk=endpoint.pk
    )
    endpoint.is_active = not endpoint.is_active
    if endpoint.is_active:
        check_url(endpoint.url)
        endpoint.cursor = events.last_position(endpoint.organization_id)
        endpoint.failing_since = endpoint.disabled_at = None
    endpoint.updated_at = timezone.now()
    _scoped(endpoint).update(
        is_active=endpoint.is_active,
        cursor=endpoint.cursor,
        failing_since=endpoint.failing_since,
        disabled_at=endpoint.disabled_at,
        updated_at=endpoint.updated_at,
    )
    _keep_flag(endpoint.organization)
    return endpoint


@transaction.atomic
def endpoint_delete(*, endpoint: WebhookEndpoint) -> int:
    pk = endpoint.pk
    WebhookEndpoint.objects.filter(organization_id=endpoint.organization_id, pk=pk).delete()
    _keep_flag(endpoint.organization)
    return pk


def _scoped(endpoint: WebhookEndpoint):
    """The endpoint's row, found by organization and id: every statement names its tenant."""
    return WebhookEndpoint.objects.filter(organization_id=endpoint.organization_id, pk=endpoint.pk)


def _keep_flag(organization: Organization) -> None:
    """Set `delivers_webhooks` to whether an active endpoint listens. Two statements under the
    organization's row lock, not one UPDATE with a subquery: on a Citus cluster organizations are
    a reference table, and an update of one may not read a distributed table. The lock orders
    concurrent endpoint changes, so the last to commit sets the flag from what it sees."""
    rows = Organization.objects.filter(pk=organization.pk)
    list(rows.select_for_update().values_list("pk"))
    active = WebhookEndpoint.objects.filter(organization_id=organization.pk, is_active=True)
    organization.delivers_webhooks = active.exists()
    rows.update(delivers_webhooks=organization.delivers_webhooks)


def redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again, whatever became of it, with the same `webhook-id`. The caller
    queues the job (webhooks.tasks.queue_deliveries) in the same transaction."""
    require_available()
    if not delivery.endpoint.is_active:
        raise ApplicationError(
            409, "WEBHOOK_INACTIVE", "The webhook is inactive: activate it to redeliver."
        )
    delivery.status = Status.PENDING
    WebhookDelivery.objects.filter(organization_id=delivery.organization_id, pk=delivery.pk).update(
        status=Status.PENDING
    )
    return delivery


def fan_out(endpoint: WebhookEndpoint) -> list[WebhookDelivery]:
    """Deliveries for the events after the endpoint's cursor, and the cursor moved past them.
    The caller holds the endpoint's row lock, so no two dispatchers fan out the same events."""
    made = []
    while True:
        batch = list(
            CustomerChange.objects.filter(
                organization_id=endpoint.organization_id,
                position__gt=endpoint.cursor,
                snapshot__isnull=False,
            )
            .order_by("position")
            .values_list("id", "position", "action", "customer_id")[:FAN_OUT_BATCH]
        )
        if not batch:
            break
        deliveries = [
            WebhookDelivery(
                organization_id=endpoint.organization_id,
                endpoint=endpoint,
                event_id=event_id,
                event_type=events.TYPES[action],
                customer_id=customer_id,
            )
            for event_id, _, action, customer_id in batch
            if endpoint.receives(events.TYPES[action])
        ]
        WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
        made += deliveries
        endpoint.cursor = batch[-1][1]
    WebhookEndpoint.objects.filter(organization_id=endpoint.organization_id, pk=endpoint.pk).update(
        cursor=endpoint.cursor
    )
    return made


def payload(event: CustomerChange) -> str:
    """The body every endpoint gets: Standard Webhooks' `type`, `timestamp` and `data`, the data
    being the event exactly as `GET /api/events` shows it."""
    data = EventSerializer(event).data
    body = {"type": data["type"], "timestamp": data["createdAt"], "data": data}
    return json.dumps(body, cls=DjangoJSONEncoder, separators=(",", ":"))


def signed_headers(secret: str, message_id: str, body: str) -> dict[str, str]:
    sent_at = timezone.now()
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, sent_at, body),
    }


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    retry: bool  # the job engine should try again later
    error: str = ""


def attempt(*, organization_id: int, endpoint_id: int, event_id: int) -> Outcome:
    """Send the event's pending delivery to the endpoint and record what happened. A failure
    keeps the delivery pending (retry) until WEBHOOK_RETRY_DAYS have passed since the event was
    queued; an endpoint failing for WEBHOOK_DISABLE_AFTER_DAYS is disabled, and its pending
    deliveries cancelled."""
    delivery = _delivery(organization_id, endpoint_id, event_id)
    if delivery is None or delivery.status != Status.PENDING:
        return Outcome(delivered=False, retry=False)
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        _finish(delivery, Status.CANCELLED, error="The webhook was deactivated.")
        return Outcome(delivered=False, retry=False)
    body = payload(delivery.event)
    headers = signed_headers(endpoint.secret, delivery.message_id, body)
    status_code, error = _post(endpoint, body, headers)
    now = timezone.now()
    if status_code is not None and 200 <= status_code < 300:
        _finish(delivery, Status.SUCCEEDED, status_code=status_code, at=now)
        if endpoint.failing_since is not None:
            WebhookEndpoint.objects.filter(
                organization_id=endpoint.organization_id, pk=endpoint.pk
            ).update(failing_since=None)
        return Outcome(delivered=True, retry=False)
    error = error or f"The endpoint answered {status_code}."
    disabled = _record_failure(endpoint, now)
    expired = now - delivery.created_at >= timedelta(days=settings.WEBHOOK_RETRY_DAYS)
    if disabled or expired:
        _finish(delivery, Status.FAILED, status_code=status_code, error=error, at=now)
        return Outcome(delivered=False, retry=False, error=error)
    _finish(delivery, Status.PENDING, status_code=status_code, error=error, at=now)
    return Outcome(delivered=False, retry=True, error=error)


def _delivery(organization_id: int, endpoint_id: int, event_id: int) -> WebhookDelivery | None:
    """The delivery row of the event to the endpoint, made if missing. The job that asks can
    start before the dispatcher's transaction that made the row commits (the worker queues jobs
    over a connection of its own): inserting it then waits on that transaction's row, and finds
    it once it commits, or makes it if it rolled back."""
    event = (
        CustomerChange.objects.select_related("actor_user", "actor_api_key")
        .filter(organization_id=organization_id, pk=event_id)
        .first()
    )
    endpoint = WebhookEndpoint.objects.filter(organization_id=organization_id, pk=endpoint_id)
    endpoint = endpoint.first()
    if event is None or endpoint is None or event.snapshot is None:
        return None
    delivery, _ = WebhookDelivery.objects.get_or_create(
        organization_id=organization_id,
        endpoint=endpoint,
        event=event,
        defaults={"event_type": events.TYPES[event.action], "customer_id": event.customer_id},
    )
    delivery.endpoint, delivery.event = endpoint, event
    return delivery


def _post(endpoint: WebhookEndpoint, body: str, headers: dict) -> tuple[int | None, str]:
    """POST to the address the URL's host resolves to now, checked again (addresses.target);
    TLS still verifies the host's name. Never follows a redirect."""
    try:
        address, port, scheme = addresses.target(endpoint.url)
    except addresses.UnsafeURL as error:
        return None, str(error)
    parts = urllib3.util.parse_url(endpoint.url)
    timeout = urllib3.Timeout(total=endpoint.timeout_seconds)
    if scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address,
            port,
            server_hostname=parts.host,
            assert_hostname=parts.host,
            timeout=timeout,
            retries=False,
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False)
    try:
        response = pool.urlopen(
            "POST",
            parts.request_uri,
            body=body.encode(),
            headers={
                **headers,
                "Host": parts.netloc,
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
            },
            redirect=False,
            assert_same_host=False,
        )
        return response.status, ""
    except urllib3.exceptions.TimeoutError:
        return None, f"No answer within {endpoint.timeout_seconds} s."
    except urllib3.exceptions.HTTPError as error:
        return None, f"Could not reach the endpoint: {error.__class__.__name__}."
    finally:
        pool.close()


def _record_failure(endpoint: WebhookEndpoint, now) -> bool:
    """Note the endpoint failing; disable it once it has failed for long enough. True if it is
    disabled now (by this failure or an earlier one)."""
    scoped = WebhookEndpoint.objects.filter(
        organization_id=endpoint.organization_id, pk=endpoint.pk
    )
    scoped.filter(failing_since__isnull=True).update(failing_since=now)
    cutoff = now - timedelta(days=settings.WEBHOOK_DISABLE_AFTER_DAYS)
    with transaction.atomic():
        if scoped.filter(is_active=True, failing_since__lte=cutoff).update(
            is_active=False, disabled_at=now
        ):
            logger.warning(
                "Webhook %s of organization %s disabled: failing since %s.",
                endpoint.pk,
                endpoint.organization_id,
                endpoint.failing_since or now,
            )
            WebhookDelivery.objects.filter(
                organization_id=endpoint.organization_id,
                endpoint_id=endpoint.pk,
                status=Status.PENDING,
            ).update(status=Status.CANCELLED, error="The webhook was disabled for failing.")
            _keep_flag(endpoint.organization)
    return not scoped.filter(is_active=True).exists()


def _finish(delivery, status, *, status_code=None, error="", at=None) -> None:
    at = at or timezone.now()
    delivery.status = status
    if status != Status.CANCELLED:
        delivery.attempts += 1
        delivery.last_attempt_at = at
        delivery.response_status = status_code
    delivery.error = error[:500]
    if status == Status.SUCCEEDED:
        delivery.delivered_at = at
    WebhookDelivery.objects.filter(organization_id=delivery.organization_id, pk=delivery.pk).update(
        status=delivery.status,
        attempts=delivery.attempts,
        last_attempt_at=delivery.last_attempt_at,
        response_status=delivery.response_status,
        error=delivery.error,
        delivered_at=delivery.delivered_at,
    )


def purge_expired(now=None) -> int:
    """Delete finished deliveries older than the event retention; answers how many."""
    cutoff = (now or timezone.now()) - events.retention()
    deleted, _ = (
        WebhookDelivery.objects.filter(created_at__lt=cutoff)
        .exclude(status=Status.PENDING)
        .delete()
    )
    return deleted
