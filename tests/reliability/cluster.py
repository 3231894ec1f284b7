"""Two production servers behind HAProxy, started by the tests that need them.

Each server is gunicorn with production settings on a free loopback port, on the test database;
HAProxy balances them round-robin, checks `/readyz`, adds `X-Forwarded-For` and names the
server that answered in `X-Served-By`. Each server's log (JSON lines, one per request with its
`request_id`) is kept in a file, so a test can ask the server itself what it served.
"""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

ROOT = Path(__file__).resolve().parents[2]
INSTALL = "scripts/install-test-servers"
SERVERS = ("app1", "app2")
CHECK_INTERVAL_MS = 200  # HAProxy's `inter`: a stopped server is out after FALL checks
FALL = 2

HAPROXY_CFG = """\
global
    maxconn 256

defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    # A connection a stopped server refuses is tried again on the other one; a request already
    # sent is never sent twice (a POST could then create twice).
    retries 2
    option redispatch 1

frontend api
    bind 127.0.0.1:{port}
    option forwardfor
    http-response set-header X-Served-By %[srv_name]
    default_backend app

backend app
    balance roundrobin
    option httpchk GET /readyz
    http-check send hdr Host 127.0.0.1
    http-check expect status 200
    default-server check inter {inter}ms fall {fall} rise 1
{servers}
"""


def require(command: str, package: str) -> str:
    path = shutil.which(command)
    if path is None:
        pytest.skip(f"needs {command} (Debian package {package}): {INSTALL}")
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: object

    @property
    def served_by(self) -> str | None:
        return self.headers.get("X-Served-By")


def call(
    port: int,
    path: str,
    method: str = "GET",
    body: dict | None = None,
    headers: dict | None = None,
    source: str = "127.0.0.1",
) -> Response:
    """One request on a new connection (so HAProxy balances each one), from `source`."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=30, source_address=(source, 0)
    )
    try:
        connection.request(
            method,
            path,
            body=json.dumps(body) if body is not None else None,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        response = connection.getresponse()
        raw = response.read()
    finally:
        connection.close()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode(errors="replace")
    # HAProxy sends header names in lower case: `headers` is looked up in any case.
    return Response(response.status, response.headers, parsed)


def wait_until(ready, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if ready():
                return
        except OSError:
            pass
        assert time.monotonic() < deadline, f"{what} did not start within {seconds} s"
        time.sleep(0.1)


def database_url(settings: dict) -> str:
    """The test database, as the servers' DATABASE_URL."""
    user = quote(settings["USER"], safe="")
    if settings.get("PASSWORD"):
        user += ":" + quote(settings["PASSWORD"], safe="")
    host = settings["HOST"] or "127.0.0.1"
    return f"postgres://{user}@{host}:{settings['PORT'] or 5432}/{settings['NAME']}"


@dataclass
class Cluster:
    port: int  # HAProxy's
    ports: dict[str, int]  # each server's own
    processes: dict[str, subprocess.Popen]
    logs: dict[str, Path]  # each server's, and HAProxy's
    haproxy: subprocess.Popen | None = None

    def call(self, path: str, method: str = "GET", body=None, headers=None, **kwargs):
        return call(self.port, path, method, body, headers, **kwargs)

    def call_server(self, name: str, path: str, method: str = "GET", body=None, headers=None):
        return call(self.ports[name], path, method, body, headers)

    def served_request_ids(self, name: str) -> set[str]:
        """The request ids in server `name`'s request log."""
        ids = set()
        for line in self.logs[name].read_text().splitlines():
            if line.startswith("{"):
                record = json.loads(line)
                if record.get("message") == "request":
                    ids.add(record["request_id"])
        return ids

    def haproxy_log(self) -> str:
        """HAProxy's warnings, such as a server taken out by its checks."""
        return self.logs["haproxy"].read_text()

    def stop(self, name: str, sig: signal.Signals) -> None:
        """Signal the server's master and worker alike, as a machine going away would."""
        os.killpg(self.processes[name].pid, sig)

    def close(self) -> None:
        for process in [self.haproxy, *self.processes.values()]:
            if process is not None and process.poll() is None:
                process.terminate()
        for process in [self.haproxy, *self.processes.values()]:
            if process is not None:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def start_cluster(database: dict, workdir: Path, env: dict | None = None) -> Cluster:
    """Two gunicorn servers with production settings and `env`, then HAProxy in front."""
    haproxy = require("haproxy", "haproxy")
    server_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "REDIS_"))},
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "balancer-test-" + "b" * 50,  # one key for every server
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        # Plain HTTP on loopback: no TLS proxy in front of these.
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        # HAProxy is the one proxy in front: the client is the last X-Forwarded-For address.
        "DJANGO_NUM_PROXIES": "1",
        "DATABASE_URL": database_url(database),
        **(env or {}),
    }
    cluster = Cluster(port=free_port(), ports={}, processes={}, logs={})
    try:
        for name in SERVERS:
            cluster.ports[name] = free_port()
            cluster.logs[name] = workdir / f"{name}.log"
            with cluster.logs[name].open("w") as log:
                cluster.processes[name] = subprocess.Popen(  # noqa: S603
                    [sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", "1",
                     "--worker-class", "gthread", "--threads", "4",
                     "--bind", f"127.0.0.1:{cluster.ports[name]}"],
                    cwd=ROOT, env=server_env, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group: master and worker
                )  # fmt: skip
        for name in SERVERS:
            wait_until(lambda n=name: cluster.call_server(n, "/readyz").status == 200, name)

        servers = "\n".join(
            f"    server {name} 127.0.0.1:{port}" for name, port in cluster.ports.items()
        )
        config = workdir / "haproxy.cfg"
        config.write_text(
            HAPROXY_CFG.format(
                port=cluster.port, inter=CHECK_INTERVAL_MS, fall=FALL, servers=servers
            )
        )
        cluster.logs["haproxy"] = workdir / "haproxy.log"
        with cluster.logs["haproxy"].open("w") as log:
            cluster.haproxy = subprocess.Popen(  # noqa: S603
                [haproxy, "-f", str(config), "-db"], stdout=log, stderr=subprocess.STDOUT
            )
        served = set()

        def both_serve() -> bool:
            served.add(cluster.call("/healthz").served_by)
            return served >= set(SERVERS)

        wait_until(both_serve, "HAProxy with both servers")
    except BaseException:
        cluster.close()
        raise
    return cluster
