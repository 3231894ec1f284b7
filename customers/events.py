"""Every change to a customer is an event other systems can follow: its history row, numbered.

The history row of a change (CustomerChange) is written in the change's own transaction by
customers/services.py, whatever the door, so a change and its event are both or neither. As an
event the row carries:

- `position`: its place in the organization's feed (`GET /api/events`). Positions come from the
  organization's EventCounter row, raised in the change's transaction; raising it locks that row
  until the transaction ends, so another transaction of the organization gets its positions only
  once the first has committed (or rolled back). Positions therefore become visible in order: a
  reader that has seen position n has seen every committed position below it, and one that asks
  for "after n" never misses an event that commits later. Ids cannot promise this: they are drawn
  at insert time, and transactions commit in another order than they insert. The price is that an
  organization's writes commit one at a time from their numbering, the last statement of a
  change, to their commit; organizations do not wait for each other.
- `snapshot`: the customer as the API shows it (the answer's own `customer_data`), after the
  change, or just before it for a deletion.

Rows are numbered as they are inserted (`record`, and the edit's single statement in
customers/queries.py), except a bulk import's, written set-wise, which `number_pending` numbers
at the import's end. An organization's first event is position 1 (history recorded before the
feed existed sits at 0 and below, without snapshots). Retention: the feed serves
`EVENT_RETENTION_DAYS`; `purge_expired` drops the snapshots of older events, and the history
itself stays.

Other systems are told through `written`, a signal sent inside the transaction that wrote an
organization's events (`announce`), only when the organization has a webhook endpoint
(`Organization.delivers_webhooks`). The webhooks app, a layer above, answers it by queueing its
dispatch job in that same transaction: the job exists if and only if the change commits.
"""

from datetime import timedelta

from django.conf import settings
from django.db import connections, router, transaction
from django.dispatch import Signal
from django.utils import timezone

from common.fields import json_value

from .api.serializers import customer_data
from .models import Customer, CustomerChange, EventCounter

Action = CustomerChange.Action
TYPES = {
    Action.CREATE: "customer.created",
    Action.UPDATE: "customer.edited",
    Action.DELETE: "customer.deleted",
    Action.ACTIVATE: "customer.activated",
    Action.INACTIVATE: "customer.inactivated",
    Action.OPENING_BALANCE: "customer.opening_balance_changed",
    Action.MERGE: "customer.merged",
    Action.UNMERGE: "customer.unmerged",
}
ACTIONS = {event_type: action for action, event_type in TYPES.items()}
NUMBER_BATCH = 2000

# Sent with `organization_id` inside the transaction that wrote the organization's events.
written = Signal()

_COUNTER = EventCounter._meta.db_table
_CHANGES = CustomerChange._meta.db_table
# Raise the organization's counter by a count and answer the new last position; the row is made
# by the first event. `{rows}` gives (organization_id, count): VALUES here, a SELECT in the edit's
# single statement (customers/queries.py). Names from the model; every value a parameter.
RAISE_COUNTER = (
    f"INSERT INTO {_COUNTER} AS counter (organization_id, last) {{rows}} "
    "ON CONFLICT (organization_id) DO UPDATE SET last = counter.last + EXCLUDED.last "
    "RETURNING last"
)
RESERVE = RAISE_COUNTER.format(rows="VALUES (%s, %s)")


def retention() -> timedelta:
    return timedelta(days=settings.EVENT_RETENTION_DAYS)


def snapshot(customer: Customer) -> dict:
    """The customer as the API answers it, as JSON values (numbers exact, times in UTC)."""
    return {name: json_value(value) for name, value in customer_data(customer).items()}


def reserve(organization_id: int, count: int) -> int:
    """`count` positions for events of this transaction; returns the first. The organization's
    counter stays locked until the transaction ends."""
    alias = router.db_for_write(EventCounter)
    connection = connections[alias]
    if connection.get_autocommit():
        raise transaction.TransactionManagementError(
            "Events are numbered inside the change's transaction."
        )
    with connection.cursor() as cursor:
        cursor.execute(RESERVE, [organization_id, count])
        last = cursor.fetchone()[0]
    return last - count + 1


def record(rows: list[CustomerChange]) -> None:
    """Insert history rows of one organization, numbered, in the caller's transaction."""
    if not rows:
        return
    with transaction.atomic(using=router.db_for_write(CustomerChange), savepoint=False):
        first = reserve(rows[0].organization_id, len(rows))
        for offset, row in enumerate(rows):
            row.position = first + offset
        CustomerChange.objects.bulk_create(rows)


def announce(organization) -> None:
    """Tell the listeners of `written` that this transaction wrote the organization's events;
    free where no webhook endpoint listens (the flag comes with the organization's row)."""
    if organization.delivers_webhooks:
        written.send(sender=CustomerChange, organization_id=organization.pk)


def number_pending(organization_id: int) -> int:
    """Number the history rows this transaction wrote without a position (a bulk import's), in
    their order, and fill in the snapshots they lack. Other transactions' unnumbered rows are
    not visible to this one, and every committed row has its number. Returns how many."""
    pending = CustomerChange.objects.filter(organization_id=organization_id, position__isnull=True)
    count = pending.count()
    if not count:
        return 0
    position = reserve(organization_id, count)
    alias = router.db_for_write(CustomerChange)
    last_id = 0
    while True:
        batch = list(
            pending.filter(id__gt=last_id)
            .order_by("id")
            .values_list("id", "customer_id", "snapshot")[:NUMBER_BATCH]
        )
        if not batch:
            return count
        customers = (
            Customer.objects.using(alias)
            .filter(organization_id=organization_id)
            .in_bulk([customer_id for _, customer_id, taken in batch if taken is None])
        )
        for change_id, customer_id, taken in batch:
            if taken is None and customer_id in customers:
                taken = snapshot(customers[customer_id])
            CustomerChange.objects.using(alias).filter(
                organization_id=organization_id, pk=change_id
            ).update(position=position, snapshot=taken)
            position += 1
        last_id = batch[-1][0]


def feed(organization_id: int, *, after: int, types: list[str] | None, limit: int) -> list:
    """The organization's events after position `after`, in order, at most `limit`, within the
    retention; those recorded before the feed existed (no snapshot) are not events."""
    events = CustomerChange.objects.filter(
        organization_id=organization_id,
        position__gt=after,
        snapshot__isnull=False,
        created_at__gte=timezone.now() - retention(),
    ).select_related("actor_user", "actor_api_key")
    if types:
        events = events.filter(action__in=[ACTIONS[event_type] for event_type in types])
    return list(events.order_by("position")[:limit])


def expired_after(organization_id: int, after: int) -> bool:
    """Whether the event just after position `after` is past the retention: then a reader
    following that cursor has missed events it can no longer get."""
    following = (
        CustomerChange.objects.filter(organization_id=organization_id, position__gt=after)
        .order_by("position")
        .values_list("created_at", "snapshot")
        .first()
    )
    if following is None:
        return False
    created_at, taken = following
    return taken is None or created_at < timezone.now() - retention()


def last_position(organization_id: int) -> int:
    counter = EventCounter.objects.filter(organization_id=organization_id).first()
    return counter.last if counter is not None else 0


def purge_expired(now=None) -> int:
    """Drop the snapshots of events older than the retention (their history rows stay)."""
    cutoff = (now or timezone.now()) - retention()
    return CustomerChange.objects.filter(created_at__lt=cutoff, snapshot__isnull=False).update(
        snapshot=None
    )
