"""The customer's hot statements, each written once as SQL instead of compiled from a queryset.

Every request for one customer reads its row by organization and id, and every edit writes the
changed columns and a history row. Django compiles a queryset or a save to SQL anew each time,
which for a 45-column model costs more CPU than the statement itself; these strings are built once
per process from the model's fields (the Options API) and run through `connection.cursor()`.
Rows become instances through the documented `Model.from_db`.

PostgreSQL runs them; on every other database (SQLite, the embedded default) the same functions
use the plain ORM, whose drivers need Django's own converters (SQLite hands decimals back as
floats). tests/customers/test_queries.py holds the two to the same answers.
"""

from django.db import connections, router, transaction

from common import citus

from . import duplicates, events
from .models import Customer, CustomerChange, CustomerSignal, CustomerSignalChange


def _columns(model) -> tuple:
    """The model's concrete fields, in the order `from_db` expects of a full row."""
    return tuple(field for field in model._meta.get_fields() if field.concrete)


CUSTOMER_FIELDS = _columns(Customer)
CUSTOMER_ATTNAMES = tuple(field.attname for field in CUSTOMER_FIELDS)
_CUSTOMER = Customer._meta.db_table
# Names come from the model, never from input; every value is a parameter.
CUSTOMER_BY_ID = (
    f"SELECT {', '.join(field.column for field in CUSTOMER_FIELDS)} FROM {_CUSTOMER} "  # noqa: S608
    "WHERE organization_id = %s AND id = %s"
)
CUSTOMER_BY_ID_FOR_UPDATE = f"{CUSTOMER_BY_ID} FOR UPDATE"

HISTORY_FIELDS = tuple(
    field
    for field in _columns(CustomerChange)
    if not field.primary_key and field.name != "position"
)
_CHANGES = CustomerChange._meta.db_table
_HISTORY_COLUMNS = ", ".join(field.column for field in HISTORY_FIELDS)
# The history row's organization and customer are the updated row's, read from it in the statement.
_FROM_UPDATED = {"organization": "updated.organization_id", "customer_id": "updated.id"}
_HISTORY_VALUES = ", ".join(_FROM_UPDATED.get(field.name, "%s") for field in HISTORY_FIELDS)
_POSITION = CustomerChange._meta.get_field("position").column
_RAISE_COUNTER_BY_ONE = events.RAISE_COUNTER.format(rows="SELECT organization_id, 1 FROM updated")
_SIGNALS = CustomerSignal._meta.db_table
_SIGNAL_CHANGES = CustomerSignalChange._meta.db_table


def _alias(model, *, write: bool) -> str:
    return router.db_for_write(model) if write else router.db_for_read(model)


def customer_by_id(organization_id: int, customer_id: int, *, for_update=False) -> Customer | None:
    """The organization's customer with this id, or None: `Customer.objects.filter(
    organization_id=…, pk=…).first()`, row-locked with `for_update` (inside a transaction only,
    as select_for_update refuses outside one)."""
    alias = _alias(Customer, write=for_update)
    connection = connections[alias]
    if for_update and connection.get_autocommit():
        # What select_for_update() says too: outside a transaction the lock would end at once.
        raise transaction.TransactionManagementError(
            "select_for_update cannot be used outside of a transaction."
        )
    if connection.vendor != "postgresql":
        customers = Customer.objects.using(alias)
        if for_update:
            customers = customers.select_for_update()
        return customers.filter(organization_id=organization_id, pk=customer_id).first()
    sql = CUSTOMER_BY_ID_FOR_UPDATE if for_update else CUSTOMER_BY_ID
    with connection.cursor() as cursor:
        cursor.execute(sql, [organization_id, customer_id])
        row = cursor.fetchone()
    return None if row is None else Customer.from_db(alias, CUSTOMER_ATTNAMES, row)


def customer_edit(
    customer: Customer,
    attributes: list[str],
    *,
    read_version: int,
    history: CustomerChange,
    signals: set[tuple[str, str]] | None = None,
) -> bool:
    """Write `attributes` of `customer` if its row still holds `read_version`, and then the
    unsaved `history` row, numbered as an event (customers/events.py), and, when `signals` is
    given (an edit of what identifies the customer), its identity signals replaced by those
    (customers/duplicates.py): all or nothing. False when the row has changed or is gone.

    On PostgreSQL that is one statement (`WITH updated AS (UPDATE … RETURNING id), numbered AS
    (the event counter raised by one), [gone AS (DELETE the signals not in `signals`), added AS
    (INSERT `signals` ON CONFLICT DO NOTHING)] INSERT … SELECT … FROM numbered`), atomic by
    itself, so outside a transaction it is one round trip. Elsewhere the same writes run in a
    transaction: on SQLite, and on a Citus coordinator, which cannot send that statement to one
    shard (it runs each data-modifying CTE and the INSERT … SELECT apart, with their rows pulled
    through the coordinator, on every shard of the signals, then commits in two phases), while
    each of the separate statements names the organization and goes to its shard alone.
    """
    alias = _alias(Customer, write=True)
    connection = connections[alias]
    fields = [Customer._meta.get_field(name) for name in attributes]
    if connection.vendor != "postgresql" or citus.installed(connection):
        with transaction.atomic(using=alias, savepoint=False):
            written = (
                Customer.objects.using(alias)
                .filter(organization_id=customer.organization_id, pk=customer.pk)
                .filter(version=read_version)
                .update(**{field.attname: getattr(customer, field.attname) for field in fields})
            )
            if written:
                events.record([history])
            if written and signals is not None:
                duplicates.replace(customer.organization_id, customer.pk, signals)
        return bool(written)

    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    sql = (
        f"WITH updated AS (UPDATE {_CUSTOMER} SET {assignments} "  # noqa: S608
        "WHERE organization_id = %s AND id = %s AND version = %s "
        "RETURNING organization_id, id), "
        f"numbered AS ({_RAISE_COUNTER_BY_ONE}){_replace_signals(signals)} "
        f"INSERT INTO {_CHANGES} ({_HISTORY_COLUMNS}, {_POSITION}) "
        f"SELECT {_HISTORY_VALUES}, last FROM numbered, updated RETURNING id, {_POSITION}"
    )
    params = [
        field.get_db_prep_save(getattr(customer, field.attname), connection) for field in fields
    ]
    params += [customer.organization_id, customer.pk, read_version]
    if signals is not None:
        wanted = sorted(signals)
        params += [[kind for kind, _ in wanted], [value for _, value in wanted]]
    params += [
        field.get_db_prep_save(field.pre_save(history, True), connection)
        for field in HISTORY_FIELDS
        if field.name not in _FROM_UPDATED
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    history.pk, history.position = row
    history._state.adding = False
    history._state.db = alias
    return True


def _replace_signals(signals: set[tuple[str, str]] | None) -> str:
    """The edit statement's CTEs that make the customer's stored signals exactly `signals`:
    those not among them deleted, the missing ones added, and both written as changes for the
    duplicate report (customers/duplicates.py; names from the model). Empty when the edit leaves
    the signals alone.

    The signals are two parameters, their kinds and their values as arrays, whatever their
    number: the statement's text is the same for every edit of the same fields, and its
    parameters stay few enough for psycopg to keep the statement's parsed form between requests.
    """
    if signals is None:
        return ""
    returned = "RETURNING signal.organization_id, signal.customer_id, signal.kind, signal.value"
    return (
        ", wanted AS (SELECT * FROM unnest(%s::varchar[], %s::varchar[]) AS wanted (kind, value))"  # noqa: S608
        f", gone AS (DELETE FROM {_SIGNALS} AS signal USING updated "
        "WHERE signal.organization_id = updated.organization_id "
        "AND signal.customer_id = updated.id AND NOT EXISTS (SELECT FROM wanted "
        f"WHERE wanted.kind = signal.kind AND wanted.value = signal.value) {returned})"
        f", added AS (INSERT INTO {_SIGNALS} (organization_id, customer_id, kind, value) "
        "SELECT updated.organization_id, updated.id, wanted.kind, wanted.value "
        "FROM updated, wanted ON CONFLICT DO NOTHING "
        "RETURNING organization_id, customer_id, kind, value)"
        f", noted AS (INSERT INTO {_SIGNAL_CHANGES} (organization_id, customer_id, kind, value) "
        "SELECT * FROM gone UNION ALL SELECT * FROM added)"
    )
