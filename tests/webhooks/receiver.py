"""A real HTTP receiver on loopback for webhook tests, and the delivery worker as a real process.

The receiver answers each POST as its `answer(n, webhook_id)` says (n counts that id's requests
from 1): a status code, or ("hang", seconds) to hold the request open. It records every request
and notes any webhook-id that arrives while a request with the same id is still in flight.
"""

import http.server
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.reliability.cluster import database_url

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Received:
    webhook_id: str
    headers: dict
    body: bytes

    @property
    def payload(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    answer: object = None
    requests: list = field(default_factory=list)
    overlaps: list = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    in_flight: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: object = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/counterpart"

    def ids(self) -> list[str]:
        with self.lock:
            return [request.webhook_id for request in self.requests]

    def wait_for(self, count: int, seconds: float = 30) -> list[Received]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.05)
        raise AssertionError(f"{len(self.requests)} requests within {seconds} s, not {count}")


def start_receiver(answer=None) -> Receiver:
    receiver = Receiver(answer=answer or (lambda n, webhook_id: 200))

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            webhook_id = self.headers.get("webhook-id", "")
            with receiver.lock:
                receiver.counts[webhook_id] += 1
                n = receiver.counts[webhook_id]
                if receiver.in_flight[webhook_id]:
                    receiver.overlaps.append(webhook_id)
                receiver.in_flight[webhook_id] += 1
            try:
                reply = receiver.answer(n, webhook_id)
                if isinstance(reply, tuple):
                    time.sleep(reply[1])
                    reply = 200
                with receiver.lock:
                    receiver.requests.append(
                        Received(webhook_id, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                self.send_response(reply)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                with receiver.lock:
                    receiver.in_flight[webhook_id] -= 1

        def log_message(self, *args):
            pass

    receiver.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.server.daemon_threads = True
    threading.Thread(target=receiver.server.serve_forever, daemon=True).start()
    return receiver


WORKER_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.test",
    "WEBHOOKS_ALLOW_LOOPBACK_HTTP": "true",
    "WEBHOOK_RETRY_BASE_SECONDS": "0.2",
    "WEBHOOK_RETRY_MAX_SECONDS": "0.5",
    "WEBHOOK_STALLED_AFTER_SECONDS": "3",
    "WEBHOOK_SWEEP_CRON": "* * * * * *",
    "WEBHOOK_WORKER_POLL_SECONDS": "0.2",
    "DJANGO_REQUEST_LOG": "false",
}


def start_worker(database: dict, log: Path, **env) -> subprocess.Popen:
    """`manage.py procrastinate worker`, as production runs it, on the test database."""
    worker_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "WEBHOOK"))},
        **WORKER_ENV,
        "DATABASE_URL": database_url(database),
        **env,
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "procrastinate", "worker"],
        cwd=ROOT,
        env=worker_env,
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
