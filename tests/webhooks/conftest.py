import pytest
from django.db import connection

from webhooks import services

from .receiver import start_receiver, start_worker, stop


@pytest.fixture
def receiver():
    started = start_receiver()
    yield started
    started.server.shutdown()


@pytest.fixture
def workers(settings, tmp_path):
    """`workers(**env)` starts one more delivery worker; all are stopped after the test."""
    started = []

    def start(**env):
        log = tmp_path / f"worker-{len(started)}.log"
        started.append(start_worker(settings.DATABASES["default"], log, **env))
        return started[-1]

    yield start
    for process in started:
        stop(process)


@pytest.fixture
def loopback(settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP = True


@pytest.fixture
def endpoint(tenant, receiver, loopback):
    return services.endpoint_create(
        organization=tenant.organization,
        name="CRM",
        url=receiver.url,
        event_types=["*"],
        created_by=tenant.owner,
    )


@pytest.fixture(autouse=True)
def _no_jobs_left_over(request):
    """procrastinate's tables are not Django's to flush between tests: emptied after each test
    that committed (a job left `doing` by a killed worker would hold its lock in the next)."""
    yield
    marker = request.node.get_closest_marker("django_db")
    if connection.vendor == "postgresql" and marker and marker.kwargs.get("transaction"):
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE procrastinate_jobs, procrastinate_events, procrastinate_periodic_defers,"
                " procrastinate_workers CASCADE"
            )
