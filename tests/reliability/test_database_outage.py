"""PostgreSQL stopped under a running server: JSON 503 during the outage, recovery by itself.
And sessions the server ends between two requests: the next request still succeeds.

The server is the production one (gunicorn, production settings), started on the test database,
once with each way it keeps connections (persistent, the default, and the psycopg pool), because
recovering is its business: at the end of a request that hit a dead connection Django discards it,
and the next request opens a new one (or takes one from the pool). This stops and starts the
machine's PostgreSQL server, so it runs only where that is allowed: CI sets
COUNTERPART_FAULT_TESTS=1 (and runs as root beside its own server).
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def pg_ctl(action: str) -> None:
    version = next(Path("/etc/postgresql").iterdir()).name
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action]
    subprocess.run([*command, *(["-m", "fast"] if action == "stop" else [])], check=True)  # noqa: S603


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def call(url: str, key: str, method: str = "GET", body: dict | None = None):
    request = urllib.request.Request(  # noqa: S310 (loopback only)
        url,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


@pytest.fixture(params=["persistent", "pool"])
def server(request):
    settings = connection.settings_dict
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "outage-test-" + "k" * 50,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_DB_POOL": "true" if request.param == "pool" else "false",
        "DATABASE_URL": (
            f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:"
            f"{settings['PORT'] or 5432}/{settings['NAME']}"
        ),
    }
    process = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{port}",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/api/schema", timeout=2)  # noqa: S310
            break
        except OSError:
            time.sleep(0.2)
    yield base
    process.terminate()
    process.wait(timeout=10)


def probe(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.skipif(
    not os.environ.get("COUNTERPART_FAULT_TESTS"),
    reason="stops the PostgreSQL server; set COUNTERPART_FAULT_TESTS=1 to run",
)
def test_requests_during_a_restart_get_json_503_and_the_service_recovers(tenant, server):
    url = f"{server}/api/customers/{tenant.customer.pk}"
    assert call(url, tenant.key)[0] == 200

    pg_ctl("stop")
    try:
        during = [call(url, tenant.key), call(url, tenant.key, "PATCH", {"note": "lost?"})]
        probes = [probe(f"{server}/healthz"), probe(f"{server}/readyz")]
    finally:
        pg_ctl("start")
        connection.close()  # the test's own connection died with the server

    for status, headers, body in during:
        assert status == 503
        assert headers["Content-Type"] == "application/json"
        assert body["errors"][0]["type"] == "SERVICE_UNAVAILABLE"
        assert headers["Retry-After"]
    # The balancer's view: the process is alive, and not ready while the database is away.
    assert probes == [200, 503]
    # No restart of the server: it must answer again by itself once PostgreSQL is back.
    deadline = time.monotonic() + 30
    while (status := call(url, tenant.key, "PATCH", {"note": "after"})[0]) != 200:
        assert status == 503, status
        assert time.monotonic() < deadline, "the service did not recover within 30 s"
        time.sleep(0.5)
    # Once it answers, it keeps answering: no connection the restart ended is handed out again.
    assert [call(url, tenant.key)[0] for _ in range(10)] == [200] * 10
    tenant.customer.refresh_from_db()
    assert tenant.customer.note == "after"
    assert probe(f"{server}/readyz") == 200


def test_sessions_the_server_ended_are_never_handed_to_a_request(tenant, server):
    """A connection whose session the server ended (an administrator, a failover, a crash) fails
    the check before the next request's first query (CONN_HEALTH_CHECKS; the pool's check with
    DJANGO_DB_POOL) and is replaced: it does not fail that request."""
    url = f"{server}/api/customers/{tenant.customer.pk}"
    assert call(url, tenant.key)[0] == 200  # the worker now holds a used connection
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        assert cursor.fetchone()[0] >= 1

    # (With the pool, each ended connection costs the request that finds it psycopg_pool's
    # back-off, about a second, before the next one is tried; the request waits, it does not
    # fail. A persistent connection is replaced at once.)
    assert [call(url, tenant.key)[0] for _ in range(5)] == [200] * 5
