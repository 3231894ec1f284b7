"""The queries of the authentication path, compiled to SQL once per process.

Django compiles a queryset to SQL every time it runs. For a select_related lookup by a unique key
that compilation costs several times the query itself (bench/auth.py: about 1 ms of CPU against
150 µs on this machine), and it runs on every API request. A `CompiledLookup` compiles its queryset
once per database, then executes the SQL with new parameters and builds the objects the way
QuerySet does (converters, `from_db`, the select_related populators), so the result is the same
model instances, joined objects included.

On PostgreSQL the SQL runs on a cursor of its own, kept per connection, that binds its parameters
on the server (as all of Django's do here, config/settings/base.py) so that psycopg prepares it:
the server then plans the statement once per connection instead of on every request. Planning the
API-key lookup's three-table join cost the server about 150 µs, four times what running it costs.
That cursor also reads results in binary, which psycopg decodes in C.

`get_charging` runs a lookup and a rate-limit count (authkeys.ratelimit.DatabaseCharge) as one
statement, where the counters are kept in the same PostgreSQL database: one round trip, not two.
"""

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connections, router
from django.db.backends.postgresql.base import (
    TIMESTAMPTZ_OID,
    CursorDebugWrapper,
    ServerBindingCursor,
)
from django.db.backends.utils import CursorWrapper
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators
from psycopg.adapt import Loader
from psycopg.pq import Format

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
                if column.output_field.db_type(connection) in _TEXT_LOADED_TYPES
            }
            if text_loaded:  # results are read in binary (`_LookupCursor`)
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
        return self._instance(alias, compiled, _fetch_one(connections[alias], compiled.sql, params))

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
            row = _fetch_one(connection, sql, [*params, *charge.params()])
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


def _fetch_one(connection, sql: str, params) -> tuple | None:
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    cursor = _lookup_cursor(connection)
    if connection.queries_logged or connection.execute_wrappers:
        # Django's cursor wrapper, for its query log (DEBUG, the tests' query counts) and for
        # execute_wrappers; not closed, the cursor is kept.
        wrapper = (_LoggedCursor if connection.queries_logged else CursorWrapper)(
            cursor, connection
        )
        wrapper.execute(sql, params)
        return wrapper.fetchone()
    # What CursorWrapper.execute does, without its layers: they cost as much as the query.
    connection.validate_no_broken_transaction()
    with connection.wrap_database_errors:
        cursor.execute(sql, params)
        return cursor.fetchone()


class _LookupCursor(ServerBindingCursor):
    """A psycopg cursor that binds parameters on the server and reads results in binary.

    psycopg prepares only the statements of cursors that bind on the server. Binary results are
    read by psycopg's C loaders, where Django's timestamptz text loader is Python; timestamps get
    the connection's time zone as Django's loader gives them (`_timestamptz_loader`). The other
    types Django loads its own way (jsonb, inet, cidr) are refused by `CompiledLookup._compile`.
    One is kept per connection: a new cursor sets up its loaders again, column by column.
    """

    timezone = None


_CURSOR_ATTRIBUTE = "_authkeys_lookup_cursor"
_TEXT_LOADED_TYPES = frozenset({"jsonb", "inet", "cidr"})


def _lookup_cursor(connection) -> _LookupCursor:
    """The connection's lookup cursor, after what Django's `cursor()` does first.

    That is: the health check, connecting, and the thread check; errors are wrapped by the caller,
    so a database outage is still Django's OperationalError, the JSON 503.
    """
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw = connection.connection
    cursor = getattr(raw, _CURSOR_ATTRIBUTE, None)
    if cursor is None or cursor.closed or cursor.timezone != connection.timezone:
        with connection.wrap_database_errors:
            cursor = _LookupCursor(raw)
        cursor.format = Format.BINARY
        cursor.timezone = connection.timezone
        cursor.adapters.register_loader("timestamptz", _timestamptz_loader(connection.timezone))
        setattr(raw, _CURSOR_ATTRIBUTE, cursor)
    return cursor


@functools.cache
def _timestamptz_loader(timezone) -> type[Loader]:
    c_loader = psycopg.adapters.get_loader(TIMESTAMPTZ_OID, Format.BINARY)

    class TimestamptzLoader(Loader):
        """psycopg's binary loader (C), with Django's time zone (`BaseTzLoader` does the same)."""

        format = Format.BINARY

        def __init__(self, oid, context=None):
            super().__init__(oid, context)
            self._load = c_loader(oid, context).load

        def load(self, data):
            return self._load(data).replace(tzinfo=timezone)

    return TimestamptzLoader


class _LoggedCursor(CursorDebugWrapper):
    """Django's query log for a cursor that binds on the server.

    Django reads the SQL it logs from psycopg's client-side composition, which such a cursor does
    not make (and a prepared statement has no text at all); compose it the same way here.
    """

    def execute(self, sql, params=None):
        with self.debug_sql(self.db.ops.compose_sql(sql, params), params):
            return CursorWrapper.execute(self, sql, params)
