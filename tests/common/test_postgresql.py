"""common.postgresql: the connection health check (pooled or persistent) skips the round trip only
when that is safe."""

import select
import time

import psycopg
import pytest
from django.db import connection
from psycopg_pool import ConnectionPool

from common.postgresql import base

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def round_trips(monkeypatch):
    """The full checks (an empty query) the pool's check makes, as a list of connections."""
    made = []
    full_check = ConnectionPool.check_connection

    def counted(conn):
        made.append(conn)
        full_check(conn)

    monkeypatch.setattr(ConnectionPool, "check_connection", staticmethod(counted))
    return made


@pytest.fixture
def pooled_connection(db):
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    conn = psycopg.connect(**params, autocommit=True)
    yield conn
    conn.close()


def test_a_connection_handed_out_again_within_a_second_is_not_queried(
    pooled_connection, round_trips
):
    base.check_connection(pooled_connection)  # first time: never seen, so checked
    pooled_connection.execute("SELECT 1")  # a request uses it; its answer is read in full

    base.check_connection(pooled_connection)

    assert round_trips == [pooled_connection]


def test_a_connection_idle_for_longer_is_checked_with_a_round_trip(pooled_connection, round_trips):
    base.check_connection(pooled_connection)
    setattr(pooled_connection, base._HANDED_OUT_AT, time.monotonic() - base.RECENTLY_USED)

    base.check_connection(pooled_connection)

    assert round_trips == [pooled_connection, pooled_connection]


def test_a_connection_whose_server_session_ended_fails_the_check(pooled_connection, round_trips):
    base.check_connection(pooled_connection)
    backend = pooled_connection.info.backend_pid
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [backend])
    # The server says so on the socket (a FATAL message, then the end of the stream).
    select.select([pooled_connection.fileno()], [], [], 5)

    with pytest.raises(psycopg.OperationalError):
        base.check_connection(pooled_connection)
    assert round_trips == [pooled_connection, pooled_connection]


def test_a_closed_connection_fails_the_check(pooled_connection):
    base.check_connection(pooled_connection)
    pooled_connection.close()

    with pytest.raises(psycopg.OperationalError):
        base.check_connection(pooled_connection)


def test_the_pool_django_builds_uses_this_check(db):
    settings = {
        **connection.settings_dict,
        "CONN_MAX_AGE": 0,
        "OPTIONS": {**connection.settings_dict["OPTIONS"], "pool": {"min_size": 1}},
    }
    wrapper = base.DatabaseWrapper(settings, alias="pool_check_test")
    try:
        assert wrapper.pool._check is base.check_connection
        with wrapper.cursor() as cursor:  # a connection from that pool works
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)
    finally:
        wrapper.close()
        wrapper.close_pool()


def test_postgresql_urls_use_this_backend():
    assert connection.settings_dict["ENGINE"] == "common.postgresql"
    assert connection.vendor == "postgresql"


@pytest.fixture
def persistent(db):
    """A second connection to the test database, kept between requests as production keeps it."""
    settings = {**connection.settings_dict, "CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": True}
    wrapper = base.DatabaseWrapper(settings, alias="persistent_check_test")
    yield wrapper
    wrapper.close()


def request_on(wrapper) -> int:
    """What one request does with its connection: Django's check at the request's start, then a
    query. Returns the server process that answered it."""
    wrapper.close_if_unusable_or_obsolete()  # request_started
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_a_persistent_connection_in_use_a_moment_ago_is_not_queried(persistent, round_trips):
    first = request_on(persistent)  # a new connection: healthy, not checked
    assert request_on(persistent) == first  # never seen by the check: checked
    assert request_on(persistent) == first  # checked less than a second ago, socket quiet

    assert round_trips == [persistent.connection]


def test_a_persistent_connection_idle_for_longer_is_checked(persistent, round_trips):
    request_on(persistent)
    request_on(persistent)
    setattr(persistent.connection, base._HANDED_OUT_AT, time.monotonic() - base.RECENTLY_USED)

    request_on(persistent)

    assert round_trips == [persistent.connection, persistent.connection]


def test_a_persistent_connection_whose_session_ended_is_replaced_before_the_request(
    persistent, round_trips
):
    ended = request_on(persistent)
    request_on(persistent)
    raw = persistent.connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [ended])
    select.select([raw.fileno()], [], [], 5)

    assert request_on(persistent) != ended  # the request ran on a new connection, and succeeded

    assert round_trips == [raw, raw]  # the ended one failed its full check
    assert raw.closed
