"""/metrics through gunicorn with several workers: one scrape sums every process.

A scraper reaches one worker per scrape, whichever the kernel picks; with PROMETHEUS_MULTIPROC_DIR
each worker writes its counts to files there and /metrics adds them up (common.metrics), and the
gunicorn.conf.py in the repository is what gunicorn reads from the working directory.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 2
REQUESTS = 40


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    # A new connection per request, so that the kernel spreads them over the workers.
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback only)
        return response.status, response.read().decode()


def healthz_count(text: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "counterpart_requests_total" and sample.labels["route"] == "/healthz"
    )


def test_one_scrape_counts_the_requests_of_every_worker(tmp_path):
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PROMETHEUS_"))},
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "metrics-test-" + "m" * 50,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_REQUEST_LOG": "false",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", str(WORKERS),
         "--reuse-port", "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                get(f"{base}/healthz")
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        before = healthz_count(get(f"{base}/metrics")[1])

        assert [get(f"{base}/healthz")[0] for _ in range(REQUESTS)] == [200] * REQUESTS

        scrapes = [healthz_count(get(f"{base}/metrics")[1]) for _ in range(4)]
    finally:
        server.terminate()
        server.wait(timeout=10)

    assert scrapes == [before + REQUESTS] * len(scrapes)
    assert len(list(tmp_path.glob("counter_*.db"))) >= WORKERS  # files of more than one process
