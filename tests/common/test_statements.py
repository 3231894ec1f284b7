"""Hot-path statements on cursors kept per connection (common/statements.py)."""

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, connection, transaction

from common import statements

pytestmark = [pytest.mark.django_db, pytest.mark.postgres_only]


def kept_cursors() -> dict:
    return getattr(connection.connection, statements._CURSORS_ATTRIBUTE)[1]


def test_a_statement_run_again_runs_on_the_same_cursor():
    assert statements.fetch_one(connection, "SELECT %s::int + 1", [1]) == (2,)
    cursor = kept_cursors()["SELECT %s::int + 1"]

    assert statements.fetch_one(connection, "SELECT %s::int + 1", [41]) == (42,)
    assert kept_cursors()["SELECT %s::int + 1"] is cursor


def test_a_connection_keeps_at_most_max_kept_cursors_closing_the_oldest(monkeypatch):
    monkeypatch.setattr(statements, "MAX_KEPT", 3)
    statements.fetch_one(connection, "SELECT 1", [])
    kept_cursors().clear()
    sqls = [f"SELECT %s::int + {n}" for n in range(5)]

    for sql in sqls[:3]:
        statements.fetch_one(connection, sql, [0])
    oldest = kept_cursors()[sqls[0]]
    for sql in sqls[3:]:
        statements.fetch_one(connection, sql, [0])

    assert list(kept_cursors()) == sqls[2:]
    assert oldest.closed
    assert statements.fetch_one(connection, sqls[0], [1]) == (1,)  # made anew when needed


def test_timestamps_come_back_in_the_connections_time_zone():
    at = datetime(2026, 11, 29, 23, 59, 58, 123456, tzinfo=UTC)

    [value] = statements.fetch_one(connection, "SELECT %s::timestamptz", [at])

    assert value == at
    assert value.tzinfo is connection.timezone


def test_a_refused_statement_raises_djangos_error_and_its_cursor_runs_again(tenant):
    sql = (
        "INSERT INTO organizations_organization (id, name, base_currency, is_active, created_at, "
        "updated_at) SELECT %s, 'Copy', 'USD', true, now(), now() RETURNING id"
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        statements.fetch_one(connection, sql, [tenant.organization.pk])  # the id is taken

    assert statements.fetch_one(connection, sql, [9_000_000_001]) == (9_000_000_001,)
