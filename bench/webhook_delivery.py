"""How many webhook deliveries a second one worker sustains to a receiver on loopback.

    DATABASE_URL=postgres://… .venv/bin/python bench/webhook_delivery.py --events 2000 \
        --concurrency 1,8

Against a migrated PostgreSQL database (its own organization "bench-webhooks", made again each
run). For each concurrency: an endpoint pointing at a receiver in this process (a threaded
http.server answering 204 at once), N events written by one import (one dispatch job), the
queue's tables vacuumed (a worker deletes each job it finishes, and fetching the next walks the
dead rows until autovacuum clears them), then one `manage.py procrastinate worker` with
WEBHOOK_WORKER_CONCURRENCY=C started; the clock runs from the worker's start to the receiver's
N-th request. Each delivery is a real one: the dispatcher's fan-out, the job's fetch, the event's
rendering, the signature, an HTTP POST, the outcome written back. Prints one line per
concurrency; the worker's log goes to bench/out/.
"""

import argparse
import http.server
import io
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ["WEBHOOKS_ALLOW_LOOPBACK_HTTP"] = "true"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from customers.models import Customer, CustomerChange, CustomerSignal  # noqa: E402
from organizations.models import Organization  # noqa: E402
from webhooks import services  # noqa: E402
from webhooks.models import WebhookEndpoint  # noqa: E402


class Receiver(http.server.BaseHTTPRequestHandler):
    count = 0
    lock = threading.Lock()
    done = threading.Event()
    target = 0

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(204)
        self.end_headers()
        with Receiver.lock:
            Receiver.count += 1
            if Receiver.count >= Receiver.target:
                Receiver.done.set()

    def log_message(self, *args):
        pass


def drop_bench_organization() -> None:
    for organization in Organization.objects.filter(name="bench-webhooks"):
        WebhookEndpoint.objects.filter(organization=organization).delete()
        CustomerChange.objects.filter(organization=organization).delete()
        CustomerSignal.objects.filter(organization=organization).delete()
        Customer.objects.filter(organization=organization).delete()
        organization.delete()


def run(events: int, concurrency: int, port: int) -> float:
    drop_bench_organization()
    organization = Organization.objects.create(name="bench-webhooks", base_currency="USD")
    services.endpoint_create(
        organization=organization,
        name="bench",
        url=f"http://127.0.0.1:{port}/in",
        event_types=["*"],
    )
    rows = "".join(f"business,Webhook {n},WH-{n},USD\n" for n in range(events))
    path = BENCH / "out" / "webhook-events.csv"
    path.parent.mkdir(exist_ok=True)
    path.write_text("customerType,displayName,code,currencyCode\n" + rows)
    call_command(
        "import_customers", str(path), "--organization", organization.pk, stdout=io.StringIO()
    )
    with (
        connection.cursor() as cursor
    ):  # the queue's dead rows from earlier runs, as autovacuum would
        cursor.execute("VACUUM procrastinate_jobs, procrastinate_events")
    Receiver.count, Receiver.target = 0, events
    Receiver.done.clear()
    log = (BENCH / "out" / f"webhook-worker-{concurrency}.log").open("w")
    env = {
        **os.environ,
        "WEBHOOK_WORKER_CONCURRENCY": str(concurrency),
        "DJANGO_LOG_LEVEL": os.environ.get("DJANGO_LOG_LEVEL", "WARNING"),
    }
    started = time.perf_counter()
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "procrastinate", "worker"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        if not Receiver.done.wait(timeout=600):
            raise SystemExit(f"only {Receiver.count} of {events} delivered in 600 s")
        elapsed = time.perf_counter() - started
    finally:
        worker.terminate()
        worker.wait()
    drop_bench_organization()
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--concurrency", default="1,8")
    args = parser.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print("| worker concurrency | events | seconds (from worker start) | deliveries/s |")
    print("|---|---|---|---|")
    for concurrency in [int(c) for c in args.concurrency.split(",")]:
        elapsed = run(args.events, concurrency, server.server_address[1])
        print(f"| {concurrency} | {args.events} | {elapsed:.1f} | {args.events / elapsed:.0f} |")


if __name__ == "__main__":
    main()
