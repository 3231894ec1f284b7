"""The SQL of customers.services.customer_import: new customers inserted, matched ones updated,
a history row for each, set-wise.

PostgreSQL does it set-wise: one INSERT … SELECT and one UPDATE … FROM, each feeding its history
rows through a data-modifying CTE, so a million rows never pass through Python twice. SQLite has
no such CTEs; there the same INSERT … SELECT runs, and the updates and history go in batches
through the service's own `change_row`. Both follow the service's rules: balance starts at the
opening balance, an update that changes nothing is not written and records nothing, one that does
bumps the version; each history row is the service's change_row (its action, door and actor) and,
set-wise, holds history_changes' form: the API's field names
(NAME_BY_ATTRIBUTE) to [old, new] in the API's JSON form (`_json_text` is common.fields.json_value
in SQL).
"""

from django.db import connection
from django.utils import timezone

from common.actors import Actor

from ..fields import NAME_BY_ATTRIBUTE, Kind, writable_attributes
from ..models import Customer, CustomerChange
from ..queries import CUSTOMER_FIELDS
from ..services import change_row
from .staging import CUSTOMERS, TABLE, Staging, is_postgres, model_field

CHANGES = CustomerChange._meta.db_table
UPDATABLE = writable_attributes("update")
ORM_BATCH = 500  # customers held at once on SQLite, with their history rows
HISTORY_COLUMNS = (
    "organization_id, customer_id, customer_display_name, action, door, actor_user_id, "
    "actor_api_key_id, changes, created_at"
)


def _defaults() -> dict[str, object]:
    """The model's default for each column the file may leave out."""
    defaults = {}
    for field in CUSTOMER_FIELDS:
        if field.has_default():
            defaults[field.column] = field.get_default()
    return defaults


def create_new(cursor, staging: Staging, *, action: str, actor: Actor) -> int:
    """Insert every staged row without a match, each with its history row; returns how many."""
    now = timezone.now()
    staged = set(staging.columns)
    columns, values, params = ["organization_id"], ["%s"], [staging.organization_id]
    for column, default in _defaults().items():
        if column == "balance":
            continue
        columns.append(column)
        if column in staged:
            values.append(f"COALESCE(s.{column}, %s)")
        else:
            values.append("%s")
        params.append(connection.ops.adapt_unknown_value(default))
    for column in staged - set(columns):
        columns.append(column)
        values.append(f"s.{column}")
    columns += ["balance", "created_at", "updated_at"]
    values += [
        "COALESCE(s.opening_balance, 0)" if "opening_balance" in staged else "0",
        "%s",
        "%s",
    ]
    params += [_db_datetime(now)] * 2
    select = (
        f"INSERT INTO {CUSTOMERS} ({', '.join(columns)}) SELECT {', '.join(values)} "
        f"FROM {TABLE} s WHERE s.customer_id IS NULL ORDER BY s.row_number"
    )
    if is_postgres():
        returned = ", ".join(["id", *(c for c in staging.columns if c != "display_name")])
        # The history's JSON is spelled out as text and parsed once: several times cheaper
        # than jsonb_build_object with an array per field, a million times over.
        changes = " || ',' || ".join(
            _json_change(field, "'null'", _json_text(field.kind, column))
            for field, column in zip(staging.fields, staging.columns, strict=True)
        )
        cursor.execute(
            f"WITH created AS ({select} RETURNING display_name, {returned}) "
            f"INSERT INTO {CHANGES} ({HISTORY_COLUMNS}) SELECT %s, id, display_name, %s, "
            f"%s, %s, %s, ('{{' || {changes} || '}}')::jsonb, %s FROM created",
            [*params, *_history_params(staging, action, actor, now)],
        )
        return cursor.rowcount
    cursor.execute(f"{select} RETURNING id", params)
    ids = [row[0] for row in cursor.fetchall()]
    attributes = [field.attribute for field in staging.fields]
    for start in range(0, len(ids), ORM_BATCH):
        customers = Customer.objects.filter(
            organization_id=staging.organization_id, pk__in=ids[start : start + ORM_BATCH]
        )
        CustomerChange.objects.bulk_create(
            change_row(
                customer=customer,
                action=action,
                actor=actor,
                changes={
                    attribute: (None, getattr(customer, attribute)) for attribute in attributes
                },
            )
            for customer in customers
        )
    return len(ids)


def update_matched(cursor, staging: Staging, *, action: str, actor: Actor) -> int:
    """Apply the file's updatable columns to matched customers that differ, each with its history
    row; returns how many."""
    fields = [field for field in staging.fields if field.attribute in UPDATABLE]
    if not fields:
        return 0
    now = timezone.now()
    if is_postgres():
        return _update_set_wise(cursor, staging, fields, action, actor, now)
    return _update_in_batches(cursor, staging, fields, action, actor, now)


def _new(field) -> str:
    column = model_field(field).column
    # An empty boolean cell means "not given": the stored value stays.
    return f"COALESCE(s.{column}, c.{column})" if field.kind is Kind.BOOLEAN else f"s.{column}"


def _update_set_wise(cursor, staging, fields, action, actor, now) -> int:
    columns = [model_field(field).column for field in fields]
    news = [_new(field) for field in fields]
    # concat_ws skips the NULL of each field that stays as it was.
    changes = ", ".join(
        f"CASE WHEN c.{column} IS DISTINCT FROM {new} THEN "
        f"{_json_change(field, _json_text(field.kind, f'c.{column}'), _json_text(field.kind, new))}"
        " END"
        for field, column, new in zip(fields, columns, news, strict=True)
    )
    selected = ", ".join(f"{new} AS {column}" for new, column in zip(news, columns, strict=True))
    diff = (
        f"SELECT c.id, {selected}, "
        f"('{{' || concat_ws(',', {changes}) || '}}')::jsonb AS changes "
        f"FROM {TABLE} s JOIN {CUSTOMERS} c ON c.id = s.customer_id "
        f"WHERE ({', '.join(f'c.{column}' for column in columns)}) "
        f"IS DISTINCT FROM ({', '.join(news)})"
    )
    update = (
        f"UPDATE {CUSTOMERS} c SET {', '.join(f'{column} = d.{column}' for column in columns)}, "
        "version = c.version + 1, updated_at = %s "
        "FROM diff d WHERE c.id = d.id RETURNING c.id, c.display_name"
    )
    cursor.execute(
        f"WITH diff AS ({diff}), updated AS ({update}) "
        f"INSERT INTO {CHANGES} ({HISTORY_COLUMNS}) SELECT %s, u.id, u.display_name, %s, "
        f"%s, %s, %s, d.changes, %s FROM updated u JOIN diff d ON d.id = u.id",
        [now, *_history_params(staging, action, actor, now)],
    )
    return cursor.rowcount


def _update_in_batches(cursor, staging, fields, action, actor, now) -> int:
    columns = [model_field(field).column for field in fields]
    cursor.execute(
        f"SELECT customer_id, {', '.join(columns)} FROM {TABLE} "
        "WHERE customer_id IS NOT NULL ORDER BY row_number"
    )
    updated = 0
    while rows := cursor.fetchmany(ORM_BATCH):
        customers = Customer.objects.filter(organization_id=staging.organization_id).in_bulk(
            [row[0] for row in rows]
        )
        changed_customers, rows_of_history, written = [], [], set()
        for customer_id, *values in rows:
            customer = customers[customer_id]
            changed = {}
            for field, value in zip(fields, values, strict=True):
                if field.kind is Kind.BOOLEAN:
                    value = getattr(customer, field.attribute) if value is None else bool(value)
                if getattr(customer, field.attribute) != value:
                    changed[field.attribute] = (getattr(customer, field.attribute), value)
            if not changed:
                continue
            for attribute, (_, value) in changed.items():
                setattr(customer, attribute, value)
                written.add(attribute)
            customer.version += 1
            customer.updated_at = now
            changed_customers.append(customer)
            rows_of_history.append(
                change_row(customer=customer, action=action, actor=actor, changes=changed)
            )
        if changed_customers:
            Customer.objects.bulk_update(changed_customers, [*written, "version", "updated_at"])
            CustomerChange.objects.bulk_create(rows_of_history)
            updated += len(changed_customers)
    return updated


def _history_params(staging: Staging, action: str, actor: Actor, now) -> list:
    """The history columns other than the customer and its changes, as change_row fills them."""
    history = change_row(
        customer=Customer(organization_id=staging.organization_id),
        action=action,
        actor=actor,
        changes={},
        with_snapshot=False,
    )
    return [
        history.organization_id,
        history.action,
        history.door,
        history.actor_user_id,
        history.actor_api_key_id,
        now,
    ]


def _json_change(field, old: str, new: str) -> str:
    """One entry of history_changes' form, as JSON text in SQL: "name":[old,new]."""
    name = NAME_BY_ATTRIBUTE[field.attribute]
    return f"""'"{name}":[' || {old} || ',' || {new} || ']'"""


def _db_datetime(value):
    return value if is_postgres() else connection.ops.adapt_datetimefield_value(value)


def _json_text(kind: Kind, column: str) -> str:
    """The API's JSON form of a column as JSON text, in SQL: exact numbers, UTC times with Z."""
    if kind in (Kind.AMOUNT, Kind.RATE, Kind.BRANCH):
        value = f"trim_scale({column})::text" if kind is not Kind.BRANCH else f"{column}::text"
    elif kind is Kind.BOOLEAN:
        value = f"CASE WHEN {column} THEN 'true' WHEN NOT {column} THEN 'false' END"
    elif kind is Kind.DATETIME:
        utc = f"({column} AT TIME ZONE 'UTC')"
        value = (
            f"""'"' || to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS') || CASE WHEN """
            f"EXTRACT(MICROSECONDS FROM {utc})::int %% 1000000 <> 0 "
            f"""THEN to_char({utc}, '.US') ELSE '' END || 'Z"'"""
        )
    else:
        value = f"to_json({column})::text"
    return f"COALESCE({value}, 'null')"
