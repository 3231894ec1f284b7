"""PostgreSQL restarted under the service: JSON 503 during the outage, recovery without a restart.

This stops and starts the machine's PostgreSQL server, so it runs only where that is allowed:
CI sets COUNTERPART_FAULT_TESTS=1 (and runs as root beside its own server).
"""

import os
import subprocess
import time
from pathlib import Path

import pytest
from rest_framework.test import APIClient

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("COUNTERPART_FAULT_TESTS"),
        reason="stops the PostgreSQL server; set COUNTERPART_FAULT_TESTS=1 to run",
    ),
]


def pg_ctl(action: str) -> None:
    version = next(Path("/etc/postgresql").iterdir()).name
    subprocess.run(  # noqa: S603
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action, "-m", "fast"]
        if action == "stop"
        else ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action],
        check=True,
        capture_output=True,
    )


def wait_until_ready(seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready = subprocess.run(
            ["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"],  # noqa: S607
            check=False,
        )
        if ready.returncode == 0:
            return
        time.sleep(0.2)
    raise AssertionError("PostgreSQL did not come back")


def test_requests_during_a_restart_get_json_503_and_the_service_recovers(tenant):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tenant.key}")
    url = f"/api/customers/{tenant.customer.pk}"
    assert api.get(url).status_code == 200

    pg_ctl("stop")
    try:
        during = [api.get(url), api.patch(url, {"note": "lost?"}, format="json")]
    finally:
        pg_ctl("start")
        wait_until_ready()

    for response in during:
        assert response.status_code == 503
        assert response["Content-Type"] == "application/json"
        assert response.json()["errors"][0]["type"] == "SERVICE_UNAVAILABLE"
        assert response["Retry-After"]
    after = api.patch(url, {"note": "after"}, format="json")
    assert after.status_code == 200
    tenant.customer.refresh_from_db()
    assert tenant.customer.note == "after"
