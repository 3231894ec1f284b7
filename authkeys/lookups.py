"""The queries of the authentication path, compiled to SQL once per process.

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

`get_charging` runs a lookup and a rate-limit count (authkeys.ratelimit.DatabaseCharge) as one
statement, where the counters are kept in the same PostgreSQL database: one round trip, not two.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connections, router
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

from common.statements import TEXT_LOADED_TYPES, fetch_one

from .ratelimit import DatabaseCharge

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    width: int  # columns selected
    compiler: object
    converters: list
    fields: slice
    attnames: list[str]
    populators: list
    charging_sql: dict[str, str] = field(default_factory=dict)  # by the counter's id field


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

    def get_charging(
        self, *params, charge: DatabaseCharge, id_field: str
    ) -> tuple[Model | None, int | None]:
        """`get(*params)`, and one request counted by `charge` if a row is found, in one statement.

        The counter is named by the row's `id_field`. Returns the instance and the counter's new
        count, or None for the count when nothing was counted: no row, or the counters are not
        in the database this model is read from, or counting failed (logged; outside a
        transaction the lookup then runs alone). The caller counts with `ratelimit.charge` then.
        """
        alias = charge.alias
        if router.db_for_read(self.model) != alias:
            return self.get(*params), None
        compiled = self._by_alias.get(alias) or self._compile(alias)
        sql = compiled.charging_sql.get(id_field) or self._charging_sql(compiled, charge, id_field)
        connection = connections[alias]
        try:
            row = fetch_one(connection, sql, [*params, *charge.params()])
        except DatabaseError as error:
            # A broken connection, or an aborted transaction, is not the counters' business.
            if connection.in_atomic_block or not connection.is_usable():
                raise
            logger.warning("lookup with a rate-limit count failed, looking up alone: %s", error)
            return self.get(*params), None
        if row is None:
            return None, None
        return self._instance(alias, compiled, row[:-1]), row[-1]

    @staticmethod
    def _charging_sql(compiled: _Compiled, charge: DatabaseCharge, id_field: str) -> str:
        # The lookup's columns are renamed c0, c1, …: a join repeats names ("id") that the
        # count must not find ambiguous. A WITH query that a data-modifying one reads runs once.
        columns = [f"c{index}" for index in range(compiled.width)]
        id_column = columns[compiled.fields.start + compiled.attnames.index(id_field)]
        sql = (
            f"WITH found ({', '.join(columns)}) AS ({compiled.sql}), "  # noqa: S608
            f"counted AS ({charge.sql(f'found.{id_column}', ' FROM found')}) "
            "SELECT found.*, counted.count FROM found LEFT JOIN counted ON TRUE"
        )
        compiled.charging_sql[id_field] = sql
        return sql

    def _instance(self, alias: str, compiled: _Compiled, row) -> Model | None:
        if row is None:
            return None
        if compiled.converters:
            [row] = compiled.compiler.apply_converters([row], compiled.converters)
        instance = self.model.from_db(alias, compiled.attnames, row[compiled.fields])
        for populator in compiled.populators:
            populator.populate(row, instance)
        return instance
