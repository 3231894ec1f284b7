"""PostgreSQL connections as production keeps them: Django's backend with its documented options."""

import select

import pytest
from django.db import connection
from django.db.backends.postgresql.base import DatabaseWrapper

pytestmark = pytest.mark.postgres_only


def test_postgresql_urls_use_djangos_backend_binding_parameters_on_the_server():
    assert connection.settings_dict["ENGINE"] == "django.db.backends.postgresql"
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True
    assert connection.settings_dict["OPTIONS"]["server_side_binding"] is True
    assert connection.settings_dict["OPTIONS"]["prepare_threshold"] == 5


@pytest.fixture
def persistent(db):
    """A second connection to the test database, kept between requests as production keeps it."""
    settings = {**connection.settings_dict, "CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": True}
    wrapper = DatabaseWrapper(settings, alias="persistent_check_test")
    yield wrapper
    wrapper.close()


def request_on(wrapper) -> int:
    """What one request does with its connection: Django's check at the request's start, then a
    query. Returns the server process that answered it."""
    wrapper.close_if_unusable_or_obsolete()  # request_started
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_a_persistent_connection_is_kept_between_requests(persistent):
    first = request_on(persistent)
    assert request_on(persistent) == first
    assert request_on(persistent) == first


def test_a_persistent_connection_whose_session_ended_is_replaced_before_the_request(persistent):
    ended = request_on(persistent)
    raw = persistent.connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s::integer)", [ended])
    select.select([raw.fileno()], [], [], 5)

    assert request_on(persistent) != ended  # the request ran on a new connection, and succeeded
    assert raw.closed
