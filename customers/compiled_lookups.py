"""The one-customer queries, compiled to SQL once per process.

A stand-in: the authentication path's copy (authkeys/lookups.py) is gone (authkeys/queries.py
replaced it); this keeps customers/selectors.py as it was until customers has its own queries.

Django compiles a queryset to SQL every time it runs. For a select_related lookup by a unique key
that compilation costs several times the query itself (bench/auth.py: about 1 ms of CPU against
150 µs on this machine), and it runs on every API request. A `CompiledLookup` compiles its queryset
once per database, then executes the SQL with new parameters and builds the objects the way
QuerySet does (converters, `from_db`, the select_related populators), so the result is the same
model instances, joined objects included.

The SQL runs on a cursor kept for it on the connection (common.statements.fetch_one): on
PostgreSQL it is prepared, so the server plans it once per connection instead of on every request
(planning the API-key lookup's three-table join cost the server about 150 µs, four times what
running it costs), and its results are read in binary.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

from common.statements import TEXT_LOADED_TYPES, fetch_one


@dataclass(frozen=True)
class _Compiled:
    sql: str
    width: int  # columns selected
    compiler: object
    converters: list
    fields: slice
    attnames: list[str]
    populators: list


class CompiledLookup:
    """`make_queryset(*params)` must filter by exactly `params`, in that order."""

    def __init__(self, model: type[Model], make_queryset: Callable[..., QuerySet], sentinels):
        self.model = model
        self._make_queryset = make_queryset
        self._sentinels = tuple(sentinels)
        self._by_alias: dict[str, _Compiled] = {}

    def _compile(self, alias: str) -> _Compiled:
        compiler = self._make_queryset(*self._sentinels).query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        if tuple(params) != self._sentinels:
            raise ImproperlyConfigured(f"{self.model.__name__} lookup: parameters out of order")
        select, klass_info = compiler.select, compiler.klass_info
        connection = connections[alias]
        if connection.vendor == "postgresql":
            text_loaded = {
                column.target.name
                for column, _, _ in select
                if column.output_field.db_type(connection) in TEXT_LOADED_TYPES
            }
            if text_loaded:  # results are read in binary (common.statements)
                raise ImproperlyConfigured(
                    f"{self.model.__name__} lookup: Django loads {sorted(text_loaded)} as text"
                )
        first, last = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        compiled = _Compiled(
            sql=sql,
            width=len(select),
            compiler=compiler,
            converters=compiler.get_converters([column for column, _, _ in select]),
            fields=slice(first, last),
            attnames=[column.target.attname for column, _, _ in select[first:last]],
            populators=get_related_populators(klass_info, select, alias),
        )
        self._by_alias[alias] = compiled
        return compiled

    def get(self, *params) -> Model | None:
        alias = router.db_for_read(self.model)
        compiled = self._by_alias.get(alias) or self._compile(alias)
        return self._instance(alias, compiled, fetch_one(connections[alias], compiled.sql, params))

    def _instance(self, alias: str, compiled: _Compiled, row) -> Model | None:
        if row is None:
            return None
        if compiled.converters:
            [row] = compiled.compiler.apply_converters([row], compiled.converters)
        instance = self.model.from_db(alias, compiled.attnames, row[compiled.fields])
        for populator in compiled.populators:
            populator.populate(row, instance)
        return instance
