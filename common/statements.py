"""Statements of the hot paths, run on one cursor per database connection, kept between requests.

Django makes a new cursor for every `connection.cursor()`, and psycopg sets each one up anew (its
adapters, then a loader per result column), behind Django's wrapper layers: for a statement that
a request runs every time, that costs as much CPU as the statement's own round trip.
`fetch_one(connection, sql, params)` runs such a statement on the connection's kept cursor
instead, with what Django's cursor does first (the health check, connecting, the thread check,
the broken-transaction check, errors wrapped as Django's), and through Django's wrapper only where
the query log or execute_wrappers need it (DEBUG, the tests' query counts).

On PostgreSQL the cursor binds its parameters on the server (as all of Django's do here,
config/settings/base.py), so psycopg prepares the statement and the server plans it once per
connection; and it reads results in binary, which psycopg decodes in C. Django loads a few types
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
    """Run `sql` with `params` on `connection`'s kept cursor; its first row, or None."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    cursor = _kept_cursor(connection)
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
    read by psycopg's C loaders, where Django's timestamptz text loader is Python; timestamps get
    the connection's time zone as Django's loader gives them (`_timestamptz_loader`). The other
    types Django loads its own way (`TEXT_LOADED_TYPES`) its callers keep out of its results.
    One is kept per connection: a new cursor sets up its loaders again, column by column.
    """

    timezone = None


_CURSOR_ATTRIBUTE = "_counterpart_kept_cursor"


def _kept_cursor(connection) -> _KeptCursor:
    """The connection's kept cursor, after what Django's `cursor()` does first.

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
            cursor = _KeptCursor(raw)
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
