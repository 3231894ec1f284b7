"""Statements of the hot paths, each run on a cursor of its own, kept with the connection.

Django makes a new cursor for every `connection.cursor()`, and psycopg sets each one up anew (its
adapters, then a loader per result column), behind Django's wrapper layers: for a statement that
a request runs every time, that costs as much CPU as the statement's own round trip.
`fetch_one(connection, sql, params)` runs such a statement on a cursor kept for that SQL on that
connection instead, with what Django's cursor does first (the health check, connecting, the thread
check, the broken-transaction check, errors wrapped as Django's), and through Django's wrapper
only where the query log or execute_wrappers need it (DEBUG, the tests' query counts).

One cursor per statement, not one per connection: psycopg keeps a cursor's set-up (the dumper of
each parameter's type, the loader of each result column) only while the cursor runs the same
query again. A request alternates statements (the key's lookup, the customer's, the write), so a
single shared cursor set everything up again for each of them. At most `MAX_KEPT` per connection:
an edit's UPDATE differs by the columns it writes.

On PostgreSQL the cursors bind parameters on the server (as all of Django's do here,
config/settings/base.py), so psycopg prepares the statement and the server plans it once per
connection; and they read results in binary, which psycopg decodes in C. Django loads a few types
its own way from text (`TEXT_LOADED_TYPES`): a statement whose results include one of those must
not run here. Elsewhere (SQLite) it is Django's own cursor.

Used by authkeys.lookups (the API-key and customer lookups) and common.saves (the edit's write).
"""

import functools

import psycopg
from django.db.backends.postgresql.base import (
    TIMESTAMPTZ_OID,
    CursorDebugWrapper,
    ServerBindingCursor,
)
from django.db.backends.utils import CursorWrapper
from psycopg.adapt import Loader
from psycopg.pq import Format

# Column types Django loads from text with loaders of its own: not to be read in binary here.
TEXT_LOADED_TYPES = frozenset({"jsonb", "inet", "cidr"})


def fetch_one(connection, sql: str, params) -> tuple | None:
    """Run `sql` with `params` on the cursor `connection` keeps for it; its first row, or None."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    cursor = _kept_cursor(connection, sql)
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


class _KeptCursor(ServerBindingCursor):
    """A psycopg cursor that binds parameters on the server and reads results in binary.

    psycopg prepares only the statements of cursors that bind on the server. Binary results are
    read by psycopg's C loaders, where Django's timestamptz text loader is Python. Timestamps get
    the connection's time zone, as Django's loader gives them: psycopg's loader gives the session's
    (which Django sets to the connection's, UTC), and where the two differ `_timestamptz_loader`
    puts the connection's. The types Django loads its own way (`TEXT_LOADED_TYPES`) its callers
    keep out of its results.
    """


_CURSORS_ATTRIBUTE = "_counterpart_kept_cursors"
MAX_KEPT = 64  # cursors kept per connection; beyond, the oldest is closed


def _kept_cursor(connection, sql: str) -> _KeptCursor:
    """The connection's kept cursor for `sql`, after what Django's `cursor()` does first.

    That is: the health check, connecting, and the thread check; errors are wrapped by the caller,
    so a database outage is still Django's OperationalError, the JSON 503. A new connection (after
    a failed health check, say) starts with no cursors.
    """
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw = connection.connection
    kept = getattr(raw, _CURSORS_ATTRIBUTE, None)
    if kept is None or kept[0] != connection.timezone:
        kept = (connection.timezone, {})
        setattr(raw, _CURSORS_ATTRIBUTE, kept)
    cursors = kept[1]
    cursor = cursors.get(sql)
    if cursor is None or cursor.closed:
        if len(cursors) >= MAX_KEPT:
            cursors.pop(next(iter(cursors))).close()
        with connection.wrap_database_errors:
            cursor = _KeptCursor(raw)
        cursor.format = Format.BINARY
        if raw.info.timezone is not connection.timezone:
            loader = _timestamptz_loader(connection.timezone)
            cursor.adapters.register_loader("timestamptz", loader)
        cursors[sql] = cursor
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
