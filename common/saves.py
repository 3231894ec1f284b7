"""Model.save() for the hot write paths, with SQL that Django's compiler built once per shape.

Each save makes Django compile its UPDATE or INSERT anew; for a customer's thirty edited columns
and the history row that goes with them, that was a quarter of a PUT's CPU. `update` and `insert`
save as Model.save does (every field's pre_save, such as auto_now, then get_db_prep_save; the
primary key read back; "did not affect any rows"), but run the SQL Django's own compiler produced
the first time a statement of that shape was needed: per model, database and columns, and for an
UPDATE which values are NULL (Django writes `col = NULL` for those, not a parameter).

Model.save itself runs, unchanged, wherever the two could differ: a model that overrides save()
or save_base(), has pre_save or post_save receivers, is a proxy or has parent tables, or a value
that is an expression.

`update_if` is the write of an optimistic edit: the UPDATE only if the row still holds the values
it was read with, and a row that records it (the history) only if the UPDATE happened. On
PostgreSQL that is one statement, atomic without a transaction of its own.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connections, router, transaction
from django.db.models import Model, Q, signals
from django.db.models.sql import InsertQuery, UpdateQuery

from common import statements


def update(instance: Model, update_fields: Iterable[str]) -> None:
    """`instance.save(update_fields=update_fields)` of a row that exists."""
    update_fields = tuple(update_fields)
    if not update_fields:
        return
    statement = _prepared_update(instance, update_fields, {})
    if statement is None:
        instance.save(update_fields=update_fields)
        return
    alias, sql, params = statement
    with (
        transaction.mark_for_rollback_on_error(using=alias),
        connections[alias].cursor() as cursor,
    ):
        cursor.execute(sql, params)
        updated = cursor.rowcount
    if not updated:
        raise DatabaseError("Save with update_fields did not affect any rows.")


def update_if(
    instance: Model,
    update_fields: Iterable[str],
    *,
    unchanged: Mapping[str, Any],
    then_insert: Model,
) -> bool:
    """`instance.save(update_fields=…)` if its row still holds the values `unchanged` names (by
    field: the version it was read with, say), and then `then_insert.save(force_insert=True)`:
    both or neither. Returns whether they were written; False when the row has changed or is gone.

    On PostgreSQL both are one statement (the UPDATE in a WITH, the INSERT selecting from what it
    updated), so outside a transaction it is one round trip and commits by itself; it runs on the
    cursor kept for it on the connection (common.statements: no cursor to set up per edit).
    Elsewhere, or where `update` and `insert` would fall back to Model.save, the UPDATE and then
    the INSERT run in a transaction.
    """
    update_fields = tuple(update_fields)
    alias = router.db_for_write(type(instance), instance=instance)
    connection = connections[alias]
    if (
        connection.vendor != "postgresql"
        or router.db_for_write(type(then_insert), instance=then_insert) != alias
    ):
        return _update_then_insert(instance, update_fields, unchanged, then_insert)
    statement = _prepared_update(instance, update_fields, unchanged)
    prepared = _prepared_insert(then_insert, alias) if statement is not None else None
    if prepared is None or not prepared[0].read_in_binary:
        return _update_then_insert(instance, update_fields, unchanged, then_insert)
    _, update_sql, update_params = statement
    compiled, insert_params = prepared
    sql = _UPDATE_THEN_INSERT.get((update_sql, compiled.sql)) or _compile_update_then_insert(
        type(instance), alias, update_sql, compiled
    )
    with transaction.mark_for_rollback_on_error(using=alias):
        row = statements.fetch_one(connection, sql, [*update_params, *insert_params])
    if row is None:
        return False
    _read_back(then_insert, compiled, row, connection, alias)
    return True


def _update_then_insert(
    instance: Model, update_fields: tuple, unchanged: Mapping[str, Any], then_insert: Model
) -> bool:
    """`update_if` as two statements in a transaction."""
    model = type(instance)
    alias = router.db_for_write(model, instance=instance)
    with transaction.atomic(using=alias, savepoint=False):
        statement = _prepared_update(instance, update_fields, unchanged)
        if statement is None:
            # Model.save writes whatever the row holds now: test the condition first, locked.
            rows = model._base_manager.using(alias).select_for_update()
            if not rows.filter(pk=instance.pk, **unchanged).exists():
                return False
            instance.save(update_fields=update_fields)
        else:
            _, sql, params = statement
            with connections[alias].cursor() as cursor:
                cursor.execute(sql, params)
                if not cursor.rowcount:
                    return False
        insert(then_insert)
    return True


def _prepared_update(
    instance: Model, update_fields: tuple, unchanged: Mapping[str, Any]
) -> tuple[str, str, list] | None:
    """(alias, sql, params) of the UPDATE that saves `update_fields` of `instance` where its
    primary key (and the `unchanged` values) match; None where Model.save must do it."""
    model = type(instance)
    if any(value is None for value in unchanged.values()):
        raise ValueError("update_if compares with values, not NULL")
    if not _saved_plainly(model):
        return None
    alias = router.db_for_write(model, instance=instance)
    connection = connections[alias]
    fields = _update_targets(model, update_fields)
    raw = [field.pre_save(instance, False) for field in fields]
    if any(_is_expression(value) for value in (*raw, *unchanged.values())):
        return None
    values = [
        field.get_db_prep_save(value, connection) for field, value in zip(fields, raw, strict=True)
    ]
    shape = (model, alias, fields, tuple(value is None for value in values), tuple(unchanged))
    params = [value for value in values if value is not None]
    params.append(model._meta.pk.get_db_prep_value(instance.pk, connection))
    params.extend(
        model._meta.get_field(name).get_db_prep_value(value, connection)
        for name, value in unchanged.items()
    )
    sql = _UPDATES.get(shape) or _compile_update(shape, instance.pk, raw, params, unchanged)
    return alias, sql, params


def insert(instance: Model) -> None:
    """`instance.save(force_insert=True)` of a new row whose primary key the database assigns."""
    alias = router.db_for_write(type(instance), instance=instance)
    prepared = _prepared_insert(instance, alias)
    if prepared is None:
        instance.save(force_insert=True)
        return
    compiled, params = prepared
    connection = connections[alias]
    with transaction.mark_for_rollback_on_error(using=alias), connection.cursor() as cursor:
        cursor.execute(compiled.sql, params)
        row = connection.ops.fetch_returned_insert_columns(cursor, compiled.returning_params)
    _read_back(instance, compiled, row, connection, alias)


def _prepared_insert(instance: Model, alias: str) -> tuple["_Insert", list] | None:
    """The compiled INSERT of `instance` and its parameters; None where Model.save must do it."""
    model = type(instance)
    connection = connections[alias]
    if (
        not _saved_plainly(model)
        or instance.pk is not None
        or not connection.features.can_return_columns_from_insert
    ):
        return None
    compiled = _INSERTS.get((model, alias)) or _compile_insert(model, alias)
    raw = [field.pre_save(instance, True) for field in compiled.fields]
    if any(_is_expression(value) for value in raw):
        return None
    params = [
        field.get_db_prep_save(value, connection)
        for field, value in zip(compiled.fields, raw, strict=True)
    ]
    return compiled, params


def _read_back(instance: Model, compiled: "_Insert", row, connection, alias: str) -> None:
    """Set what the INSERT returned (the primary key) on `instance`, as Model.save does."""
    row = list(row)
    for position, (converters, expression) in compiled.converters.items():
        for converter in converters:
            row[position] = converter(row[position], expression, connection)
    for value, field in zip(row, compiled.returning, strict=True):
        setattr(instance, field.attname, value)
    instance._state.adding = False
    instance._state.db = alias


def _saved_plainly(model: type[Model]) -> bool:
    meta = model._meta
    return (
        model.save is Model.save
        and model.save_base is Model.save_base
        and not meta.proxy
        and not meta.parents
        and not signals.pre_save.has_listeners(model)
        and not signals.post_save.has_listeners(model)
    )


def _is_expression(value) -> bool:
    return hasattr(value, "resolve_expression") or hasattr(value, "prepare_database_save")


_UPDATES: dict[tuple, str] = {}


def _update_targets(model: type[Model], names: tuple[str, ...]) -> tuple:
    """The columns Model.save(update_fields=names) writes, in the model's order."""
    found = _TARGETS.get((model, names))
    if found is None:
        meta = model._meta
        candidates = [
            f for f in meta.local_concrete_fields if not f.primary_key and not f.generated
        ]
        found = tuple(f for f in candidates if f.name in names or f.attname in names)
        known = {f.name for f in found} | {f.attname for f in found}
        if unknown := sorted(set(names) - known):
            raise ValueError(f"{model.__name__} cannot update these fields: {', '.join(unknown)}")
        _TARGETS[(model, names)] = found
    return found


_TARGETS: dict[tuple, tuple] = {}


def _compile_update(shape: tuple, pk, raw: list, params: list, unchanged: Mapping) -> str:
    model, alias, fields, _, _ = shape
    _refuse_own_placeholders(model, fields)
    query = UpdateQuery(model)
    query.add_update_fields(list(zip(fields, [None] * len(fields), raw, strict=True)))
    condition = Q(pk=pk)
    for name, value in unchanged.items():
        condition &= Q(**{name: value})
    query.add_q(condition)
    sql, compiled_params = query.get_compiler(using=alias).as_sql()
    where = 1 + len(unchanged)  # the primary key, then the unchanged values, last
    if len(compiled_params) != len(params) or list(compiled_params[-where:]) != params[-where:]:
        raise ImproperlyConfigured(f"{model.__name__}: the UPDATE's parameters are not the fields'")
    _UPDATES[shape] = sql
    return sql


_UPDATE_THEN_INSERT: dict[tuple[str, str], str] = {}


def _compile_update_then_insert(
    model: type[Model], alias: str, update_sql: str, insert: "_Insert"
) -> str:
    """`WITH updated AS (UPDATE … RETURNING pk) INSERT INTO … SELECT %s, … FROM updated …`:
    the compiled INSERT, with its one row of values selected once per row the UPDATE wrote."""
    placeholders = ", ".join(["%s"] * len(insert.fields))
    values = f"VALUES ({placeholders})"
    if insert.sql.count(values) != 1:
        raise ImproperlyConfigured(f"{model.__name__}: unexpected INSERT: {insert.sql}")
    pk = connections[alias].ops.quote_name(model._meta.pk.column)
    # Compiled SQL and quoted names only: every value is a parameter.
    select = f"SELECT {placeholders} FROM updated"  # noqa: S608
    sql = f"WITH updated AS ({update_sql} RETURNING {pk}) {insert.sql.replace(values, select)}"
    _UPDATE_THEN_INSERT[(update_sql, insert.sql)] = sql
    return sql


@dataclass(frozen=True)
class _Insert:
    sql: str
    fields: tuple
    returning: tuple
    returning_params: tuple
    converters: dict
    read_in_binary: bool  # what it returns can be read by common.statements.fetch_one


_INSERTS: dict[tuple, _Insert] = {}


def _compile_insert(model: type[Model], alias: str) -> _Insert:
    meta = model._meta
    fields = tuple(
        f for f in meta.local_concrete_fields if not f.generated and f is not meta.auto_field
    )
    _refuse_own_placeholders(model, fields)
    query = InsertQuery(model)
    query.insert_values(fields, [model()])  # the values do not change the SQL: one %s per column
    compiler = query.get_compiler(using=alias)
    compiler.returning_fields = meta.db_returning_fields
    [(sql, params)] = compiler.as_sql()
    if len(params) != len(fields):
        raise ImproperlyConfigured(f"{model.__name__}: the INSERT's parameters are not the fields'")
    returning = tuple(meta.db_returning_fields)
    connection = connections[alias]
    compiled = _Insert(
        sql=sql,
        fields=fields,
        returning=returning,
        returning_params=tuple(compiler.returning_params),
        converters=compiler.get_converters([f.get_col(meta.db_table) for f in returning]),
        read_in_binary=not any(
            f.db_type(connection) in statements.TEXT_LOADED_TYPES for f in returning
        ),
    )
    _INSERTS[(model, alias)] = compiled
    return compiled


def _refuse_own_placeholders(model: type[Model], fields) -> None:
    # A binary, array or range column writes its value through a placeholder of its own, which
    # may depend on the value: such a model is saved with Model.save.
    if own := [f.name for f in fields if hasattr(f, "get_placeholder")]:
        raise ImproperlyConfigured(f"{model.__name__}.{own[0]} needs Model.save")
