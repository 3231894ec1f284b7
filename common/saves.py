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
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connections, router, transaction
from django.db.models import Model, Q, signals
from django.db.models.sql import InsertQuery, UpdateQuery


def update(instance: Model, update_fields: Iterable[str]) -> None:
    """`instance.save(update_fields=update_fields)` of a row that exists."""
    update_fields = tuple(update_fields)
    model = type(instance)
    if not update_fields:
        return
    if not _saved_plainly(model):
        instance.save(update_fields=update_fields)
        return
    alias = router.db_for_write(model, instance=instance)
    connection = connections[alias]
    fields = _update_targets(model, update_fields)
    raw = [field.pre_save(instance, False) for field in fields]
    if any(_is_expression(value) for value in raw):
        instance.save(update_fields=update_fields)
        return
    values = [
        field.get_db_prep_save(value, connection) for field, value in zip(fields, raw, strict=True)
    ]
    shape = (model, alias, fields, tuple(value is None for value in values))
    params = [value for value in values if value is not None]
    params.append(model._meta.pk.get_db_prep_value(instance.pk, connection))
    sql = _UPDATES.get(shape) or _compile_update(shape, instance.pk, raw, params)
    with transaction.mark_for_rollback_on_error(using=alias), connection.cursor() as cursor:
        cursor.execute(sql, params)
        updated = cursor.rowcount
    if not updated:
        raise DatabaseError("Save with update_fields did not affect any rows.")


def insert(instance: Model) -> None:
    """`instance.save(force_insert=True)` of a new row whose primary key the database assigns."""
    model = type(instance)
    alias = router.db_for_write(model, instance=instance)
    connection = connections[alias]
    if (
        not _saved_plainly(model)
        or instance.pk is not None
        or not connection.features.can_return_columns_from_insert
    ):
        instance.save(force_insert=True)
        return
    compiled = _INSERTS.get((model, alias)) or _compile_insert(model, alias)
    raw = [field.pre_save(instance, True) for field in compiled.fields]
    if any(_is_expression(value) for value in raw):
        instance.save(force_insert=True)
        return
    params = [
        field.get_db_prep_save(value, connection)
        for field, value in zip(compiled.fields, raw, strict=True)
    ]
    with transaction.mark_for_rollback_on_error(using=alias), connection.cursor() as cursor:
        cursor.execute(compiled.sql, params)
        row = connection.ops.fetch_returned_insert_columns(cursor, compiled.returning_params)
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


def _compile_update(shape: tuple, pk, raw: list, params: list) -> str:
    model, alias, fields, _ = shape
    _refuse_own_placeholders(model, fields)
    query = UpdateQuery(model)
    query.add_update_fields(list(zip(fields, [None] * len(fields), raw, strict=True)))
    query.add_q(Q(pk=pk))
    sql, compiled_params = query.get_compiler(using=alias).as_sql()
    if len(compiled_params) != len(params) or compiled_params[-1] != params[-1]:
        raise ImproperlyConfigured(f"{model.__name__}: the UPDATE's parameters are not the fields'")
    _UPDATES[shape] = sql
    return sql


@dataclass(frozen=True)
class _Insert:
    sql: str
    fields: tuple
    returning: tuple
    returning_params: tuple
    converters: dict


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
    compiled = _Insert(
        sql=sql,
        fields=fields,
        returning=returning,
        returning_params=tuple(compiler.returning_params),
        converters=compiler.get_converters([f.get_col(meta.db_table) for f in returning]),
    )
    _INSERTS[(model, alias)] = compiled
    return compiled


def _refuse_own_placeholders(model: type[Model], fields) -> None:
    # A binary, array or range column writes its value through a placeholder of its own, which
    # may depend on the value: such a model is saved with Model.save.
    if own := [f.name for f in fields if hasattr(f, "get_placeholder")]:
        raise ImproperlyConfigured(f"{model.__name__}.{own[0]} needs Model.save")
