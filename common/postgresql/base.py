"""Django's PostgreSQL backend, with a connection health check that skips its round trip if it can.

Django checks a connection before a request uses it, with a round trip to the server: a
persistent connection (`CONN_MAX_AGE` with `CONN_HEALTH_CHECKS`) by `is_usable`, a `SELECT 1`; a
pooled one by the pool's `ConnectionPool.check_connection`, an empty query. So a connection the
server has dropped (a restart, a failover, a terminated backend) fails the check instead of a
request. That round trip is a fifth of a customer GET's database work. `check_connection` below,
used for both, gets the same protection for less: a connection handed out (to a request, or by the
pool) less than a second ago, whose socket has nothing waiting to be read, is given out unchecked.
A server that ends a session says so on the socket (a FATAL message, then the end of the stream),
so such a connection's socket is readable and it gets the full check, which fails, and the
connection is replaced. A connection idle for longer is checked with the round trip, as pgx's pool
does for PostgreSQL clients in Go (a ping after one second idle), so a connection left idle behind
a silent network failure is still caught.

Used where DATABASE_URL names PostgreSQL (config/settings/base.py); everything else is Django's.
"""

import select
import time

from django.db.backends.postgresql import base
from psycopg import Connection, Error
from psycopg_pool import ConnectionPool

# A connection handed out again within this many seconds is trusted if its socket is quiet.
RECENTLY_USED = 1.0
_HANDED_OUT_AT = "_counterpart_handed_out_at"


def check_connection(connection: Connection) -> None:
    """The pool's `check`, and the persistent connection's: return if `connection` can be used,
    raise otherwise."""
    now = time.monotonic()
    handed_out_at = getattr(connection, _HANDED_OUT_AT, None)
    setattr(connection, _HANDED_OUT_AT, now)
    if handed_out_at is not None and now - handed_out_at < RECENTLY_USED and _quiet(connection):
        return
    ConnectionPool.check_connection(connection)


def _quiet(connection: Connection) -> bool:
    """Nothing has arrived on the connection since its last answer: no message, no end of stream."""
    if connection.closed or connection.broken:
        return False
    poller = select.poll()
    poller.register(connection.fileno(), select.POLLIN)
    return not poller.poll(0)


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self):
        pool = super().pool
        # Django builds the pool with psycopg_pool's own check when CONN_HEALTH_CHECKS is on, and
        # offers no way to pass another; the pool keeps its check in `_check`.
        if pool is not None and pool._check is ConnectionPool.check_connection:
            pool._check = check_connection
        return pool

    def close_if_health_check_failed(self):
        """A persistent connection's check, once per request before its first query: the same
        policy as the pool's (`check_connection`). A connection that fails it is closed, and the
        request opens a new one. (A pooled connection is checked by its pool when handed out.)"""
        if self.connection is None or not self.health_check_enabled or self.health_check_done:
            return
        try:
            check_connection(self.connection)
        except Error:
            self.close()
        self.health_check_done = True
