"""Counterpart behind PgBouncer in transaction mode (Debian's 1.18): every kind of request works.

In transaction mode a server connection belongs to a client for one transaction only, so nothing
may outlive one: `DJANGO_DB_TRANSACTION_POOLING=true` turns off prepared statements (PgBouncer
before 1.21 cannot keep them: "prepared statement … does not exist" on the next transaction) and
server-side cursors (the export's `.iterator()`). A gunicorn server with production settings talks
to the test database only through a PgBouncer this test starts, with fewer server connections
than the server has threads, so that transactions really do move between connections.
"""

import csv
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not Path(PGBOUNCER).exists(),
        reason="needs PgBouncer (Debian package pgbouncer): apt-get install -y pgbouncer",
    ),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(port: int, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        assert process.poll() is None, f"{what} exited: {process.stdout.read().decode()[-2000:]}"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert time.monotonic() < deadline, f"{what} did not start"
            time.sleep(0.2)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def pgbouncer(tmp_path_factory):
    """PgBouncer on a free loopback port, in front of the test database's server."""
    settings = connection.settings_dict
    home = Path(tmp_path_factory.mktemp("pgbouncer"))
    home.chmod(0o755)  # PgBouncer drops root for the postgres user, who reads its files
    port = free_port()
    (home / "users.txt").write_text(f'"{settings["USER"]}" ""\n')
    (home / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={settings['HOST']} port={settings['PORT'] or 5432}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {home / 'users.txt'}\n"
        "pool_mode = transaction\ndefault_pool_size = 2\nmax_client_conn = 50\n"
    )
    for name in ("users.txt", "pgbouncer.ini"):
        (home / name).chmod(0o644)
    user = ["-u", "postgres"] if os.geteuid() == 0 else []
    process = subprocess.Popen(  # noqa: S603
        [PGBOUNCER, *user, str(home / "pgbouncer.ini")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    wait_for(port, process, "PgBouncer")
    yield port
    stop(process)


@pytest.fixture
def server(pgbouncer):
    """gunicorn, production settings, 2 workers of 4 threads, its database through PgBouncer."""
    settings = connection.settings_dict
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PROMETHEUS_"))},
        "DATABASE_URL": f"postgres://{settings['USER']}@127.0.0.1:{pgbouncer}/{settings['NAME']}",
        "DJANGO_DB_TRANSACTION_POOLING": "true",
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "pgbouncer-test-" + "p" * 50,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_REQUEST_LOG": "false",
    }
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", "2",
         "--worker-class", "gthread", "--threads", "4", "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    wait_for(port, process, "gunicorn")
    yield f"http://127.0.0.1:{port}"
    stop(process)


def call(base, key, method, path, body=None, headers=None, content_type="application/json"):
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    request = urllib.request.Request(  # noqa: S310 (loopback, http)
        base + path,
        method=method,
        data=data,
        headers={"Authorization": f"Bearer {key}", "Content-Type": content_type, **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback)
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def multipart(fields: dict, filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: text/csv\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    return b"".join(
        parts
    ) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def test_every_kind_of_request_works_through_pgbouncer_in_transaction_mode(tenant, server):
    key = tenant.key

    # Writes one after the other first.
    ids = []
    for number in range(12):
        status, _, body = call(
            server, key, "POST", "/api/customers",
            {"customerType": "business", "displayName": f"Pooled {number}", "currencyCode": "USD",
             "code": f"POOL-{number}"},
            headers={"Idempotency-Key": f"pool-{number}"},
        )  # fmt: skip
        assert status == 201, body
        ids.append(json.loads(body)["id"])

    # Eight clients at once over two server connections: each client's statements land on
    # whichever connection is free, so a prepared statement or an open cursor would be lost.
    def edit(customer_id):
        for round_number in range(4):
            status, headers, body = call(server, key, "GET", f"/api/customers/{customer_id}")
            assert status == 200, body
            status, _, body = call(
                server, key, "PUT", f"/api/customers/{customer_id}",
                {**json.loads(body), "note": f"through the pooler {round_number}"},
                headers={"If-Match": headers["ETag"]},
            )  # fmt: skip
            assert status == 200, body
            # The export streams its rows: a server-side cursor would outlive its transaction.
            status, _, body = call(server, key, "GET", "/api/export?resource=customers")
            assert status == 200, body

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(edit, ids))
    status, _, body = call(server, key, "GET", "/api/customers?searchKeyword=pooled&pageSize=50")
    assert (status, json.loads(body)["pagination"]["total"]) == (200, 12)
    status, _, body = call(server, key, "GET", "/api/export?resource=customers")
    notes = {row["code"]: row["note"] for row in csv.DictReader(io.StringIO(body.decode()))}
    assert all(notes[f"POOL-{number}"] == "through the pooler 3" for number in range(12))

    # The import: an upload, its mapping, and the set-wise write with its temporary table.
    content = b"Type,Name,Currency\nbusiness,Imported through the pooler,EUR\n"
    upload, content_type = multipart({"resource": "customers"}, "pooled.csv", content)
    status, _, body = call(
        server, key, "POST", "/api/import/file", upload, content_type=content_type
    )
    assert status == 200, body
    import_id = json.loads(body)["import"]["importId"]
    mapping = {"mapping": [{"from": "Type", "to": "customerType"},
                           {"from": "Name", "to": "displayName"},
                           {"from": "Currency", "to": "currencyCode"}]}  # fmt: skip
    assert call(server, key, "POST", f"/api/import/{import_id}/mapping", mapping)[0] == 200
    status, _, body = call(server, key, "POST", f"/api/import/{import_id}/import")
    assert (status, json.loads(body)["createdCount"]) == (200, 1), body

    # The event feed: every change above, once, in order.
    status, _, body = call(server, key, "GET", "/api/events?limit=1000")
    positions = [event["position"] for event in json.loads(body)["events"]]
    assert positions == list(range(1, 12 + 12 * 4 + 1 + 1))
