"""Django's PostgreSQL backend, with a connection pool that skips the health check when it can.

Django's pool checks every connection it hands out with a round trip to the server
(`ConnectionPool.check_connection`: an empty query), so that a connection the server has dropped
(a restart, a failover, a terminated backend) fails the check instead of a request. That round
trip is a fifth of a customer GET's database work. `check_connection` below gets the same
protection for less: a connection the pool handed out less than a second ago, whose socket has
nothing waiting to be read, is given out unchecked. A server that ends a session says so on the
socket (a FATAL message, then the end of the stream), so such a connection's socket is readable
and it gets the full check, which fails, and the pool replaces it. A connection idle for longer
is checked with the round trip, as pgx's pool does for PostgreSQL clients in Go (a ping after
one second idle), so a connection left idle behind a silent network failure is still caught.

Used where DATABASE_URL names PostgreSQL (config/settings/base.py); everything else is Django's.
"""

import select
import time

from django.db.backends.postgresql import base
from psycopg import Connection
from psycopg_pool import ConnectionPool

# A connection handed out again within this many seconds is trusted if its socket is quiet.
RECENTLY_USED = 1.0
_HANDED_OUT_AT = "_counterpart_handed_out_at"


def check_connection(connection: Connection) -> None:
    """The pool's `check`: return if `connection` can be used, raise otherwise."""
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
