"""What authentication costs: one API-key verification, and whole requests with and without it.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/counterpart_auth .venv/bin/python bench/auth.py

1. Key verification in microseconds with the one database fetch stubbed (the fetch is timed on
   its own): parse the header, check the format, SHA-256, constant-time compare, usability
   checks, the organization-id check, the lastUsedAt check, the Principal.
   Then the lastUsedAt write, which a key's first request in a minute makes (every request of a
   key used less often).
2. Per counter store: the rate-limit count alone, and the fetch of the key (with organization
   and creator) followed by its request's count, as authentication and the throttle make them
   (every request one statement in the counter store).
3. GET /api/customers/{id} through Django's WSGI stack in process (django.test.Client: the full
   middleware chain, URL resolution, DRF, the view, JSON rendering, no sockets), sequential,
   with authentication switched off (a fixed Principal, no query, no throttle) and on (API
   key; JWT), the throughput of each as a fraction of "off". In each round the modes take turns
   request by request (the order rotating), so that other work on the machine slows them alike;
   the median of the rounds. Three clocks: wall time; this process's CPU time (it ignores time
   spent waiting for a core, and leaves out the PostgreSQL server's own work, so it understates
   a query's cost there, not with SQLite); and that CPU time plus the CPU time of the PostgreSQL
   backend serving this process (and of Redis, counting there), read from /proc when the
   servers run on this machine: what a request costs the machine.
"""

import os
import statistics
import sys
import time
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost")

import django

django.setup()

import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, RequestFactory, override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.request import Request  # noqa: E402
from rest_framework_simplejwt.tokens import RefreshToken  # noqa: E402

from authkeys import crypto, ratelimit, services  # noqa: E402
from authkeys.authentication import BearerAuthentication, Principal  # noqa: E402
from authkeys.models import ApiKey  # noqa: E402
from authkeys.services import api_key_create  # noqa: E402
from authkeys.throttling import credential_counter  # noqa: E402
from customers.api.views import CustomerViewSet  # noqa: E402
from customers.models import Customer  # noqa: E402
from organizations.models import Membership, Organization, User  # noqa: E402

REQUESTS_PER_ROUND = int(os.environ.get("BENCH_REQUESTS", "500"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "7"))
UNLIMITED = {
    **settings.REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
        "api_key": "100000000/day",
        "user": "100000000/day",
    },
}
CACHES = {
    "locmem": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "database": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "counterpart_cache",
    },
    "redis": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "KEY_PREFIX": "counterpart-bench",
    },
}


def fixtures():
    call_command("migrate", verbosity=0)
    organization, _ = Organization.objects.get_or_create(
        name="Bench: authentication", defaults={"base_currency": "USD"}
    )
    user, _ = User.objects.get_or_create(email="bench-auth@example.com")
    Membership.objects.get_or_create(
        organization=organization, user=user, defaults={"role": Membership.Role.OWNER}
    )
    customer = Customer.objects.filter(
        organization=organization
    ).first() or Customer.objects.create(
        organization=organization,
        customer_type="business",
        display_name="Bench",
        currency_code="USD",
    )
    key = api_key_create(organization=organization, name="bench", created_by=user).key
    return organization, user, customer, key


def best_microseconds(function, number):
    return min(timeit.repeat(function, number=number, repeat=5)) / number * 1e6


def verification_cost(key):
    api_key = ApiKey.objects.select_related("organization", "created_by").get(
        digest=crypto.digest(key)
    )
    api_key.last_used_at = timezone.now()  # within the minute: no write, as on most requests

    class StubbedFetch(BearerAuthentication):
        _find_api_key = staticmethod(lambda digest: api_key)

    request = Request(RequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {key}"))
    authenticator = StubbedFetch()
    assert authenticator.authenticate(request)[1].api_key == api_key
    verify = best_microseconds(lambda: authenticator.authenticate(request), 20000)
    sha = best_microseconds(lambda: crypto.digest(key), 100000)
    return verify, sha


def touch_cost(key, writes=200):
    """The lastUsedAt write, in µs of wall time and of this process's CPU: once a minute for a
    busy key, on every request for a key used less often than that."""
    api_key = ApiKey.objects.get(digest=crypto.digest(key))
    first = timezone.now()
    stamps = [first + 2 * n * services.LAST_USED_PRECISION for n in range(writes)]
    started, cpu_started = time.perf_counter(), time.process_time()
    for now in stamps:  # each a write: two minutes after the one before
        services.api_key_touch(api_key=api_key, now=now)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=first)
    return wall / writes * 1e6, cpu / writes * 1e6


def store_costs(cache_name, key):
    """The count alone, and the key's fetch then its count, in µs."""
    rate = ratelimit.Rate(limit=10**9, period=60)
    digest = crypto.digest(key)

    def fetch_and_count():
        api_key = BearerAuthentication._find_api_key(digest)
        principal = Principal(organization=api_key.organization, user=None, api_key=api_key)
        return ratelimit.count_request(*credential_counter(principal))

    with override_settings(CACHES={"default": CACHES[cache_name]}, REST_FRAMEWORK=UNLIMITED):
        if cache_name == "database":
            call_command("createcachetable", verbosity=0)
        try:
            ratelimit.count_request("bench", rate)
        except Exception as error:  # Redis not running: say so and go on
            return f"unavailable ({error.__class__.__name__})"
        count = best_microseconds(lambda: ratelimit.count_request("bench", rate), 500)
        fetch = best_microseconds(fetch_and_count, 2000)
        return f"count alone {count:.0f} µs; the key's fetch then its count {fetch:.0f} µs"


def server_pids(cache_name) -> list[int]:
    """The PostgreSQL backend serving this process, and Redis when it counts, if on this machine."""
    pids = []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pids.append(cursor.fetchone()[0])
    if cache_name == "redis":
        pids.append(redis.Redis.from_url(CACHES["redis"]["LOCATION"]).info("server")["process_id"])
    return [pid for pid in pids if Path(f"/proc/{pid}/schedstat").exists()]


def cpu_seconds(pids) -> float:
    """This process's CPU time and that of `pids` (the first field of schedstat: ns on a CPU)."""
    total = time.process_time()
    for pid in pids:
        total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
    return total


class FixedPrincipal:
    """Authentication switched off: the principal is known in advance, nothing is looked up."""

    principal = None

    def authenticate(self, request):
        return self.principal.user, self.principal

    def authenticate_header(self, request):
        return "Bearer"


def throughput(customer, headers_by_mode, cache_name):
    """Requests per second of each mode, by three clocks: the median of the rounds.

    Within a round the modes take turns request by request (the order rotating), so that other
    work on the machine slows every mode alike.
    """
    client = Client()
    url = f"/api/customers/{customer.pk}"
    modes = list(headers_by_mode)
    clocks = ("wall", "cpu", "cpu + servers")
    rates = {clock: {mode: [] for mode in modes} for clock in clocks}
    real = CustomerViewSet.authentication_classes
    classes = {mode: [FixedPrincipal] if mode == "off" else real for mode in modes}
    real_throttles = CustomerViewSet.throttle_classes
    throttles = {mode: [] if mode == "off" else real_throttles for mode in modes}
    with override_settings(CACHES={"default": CACHES[cache_name]}, REST_FRAMEWORK=UNLIMITED):
        if cache_name == "database":
            call_command("createcachetable", verbosity=0)
        pids = server_pids(cache_name)
        for mode in modes:
            CustomerViewSet.authentication_classes = classes[mode]
            CustomerViewSet.throttle_classes = throttles[mode]
            assert client.get(url, **headers_by_mode[mode]).status_code == 200
        for _ in range(ROUNDS):
            spent = {clock: dict.fromkeys(modes, 0.0) for clock in clocks}
            for number in range(REQUESTS_PER_ROUND * len(modes)):
                mode = modes[(number + number // len(modes)) % len(modes)]
                headers = headers_by_mode[mode]
                CustomerViewSet.authentication_classes = classes[mode]
                CustomerViewSet.throttle_classes = throttles[mode]
                servers = cpu_seconds(pids) - time.process_time()
                start, start_cpu = time.perf_counter(), time.process_time()
                client.get(url, **headers)
                end_cpu, end = time.process_time(), time.perf_counter()
                servers = cpu_seconds(pids) - time.process_time() - servers
                spent["wall"][mode] += end - start
                spent["cpu"][mode] += end_cpu - start_cpu
                spent["cpu + servers"][mode] += end_cpu - start_cpu + servers
            for clock in clocks:
                for mode in modes:
                    rates[clock][mode].append(REQUESTS_PER_ROUND / spent[clock][mode])
        CustomerViewSet.authentication_classes = real
        CustomerViewSet.throttle_classes = real_throttles
    return {
        clock: {mode: statistics.median(values) for mode, values in rates[clock].items()}
        for clock in clocks
        if pids or clock != "cpu + servers"
    }


def main():
    organization, user, customer, key = fixtures()
    print(f"database: {settings.DATABASES['default']['ENGINE']}, python {sys.version.split()[0]}")

    verify, sha = verification_cost(key)
    print(f"key verification, fetch stubbed: {verify:.1f} µs (of which SHA-256: {sha:.1f} µs)")
    wall, cpu = touch_cost(key)
    print(f"lastUsedAt write (a key's first request in a minute): {wall:.0f} µs, {cpu:.0f} µs CPU")
    for cache_name in CACHES:
        print(f"counters in {cache_name} cache: {store_costs(cache_name, key)}")

    membership = Membership.objects.select_related("organization", "user").get(
        organization=organization, user=user
    )
    FixedPrincipal.principal = Principal(organization=organization, user=user, role=membership.role)
    access = str(RefreshToken.for_user(user).access_token)
    modes = {
        "off": {},
        "api key": {"HTTP_AUTHORIZATION": f"Bearer {key}"},
        "jwt": {
            "HTTP_AUTHORIZATION": f"Bearer {access}",
            "HTTP_ORGANIZATION_ID": str(organization.pk),
        },
    }
    print(f"GET /api/customers/{{id}}, {ROUNDS} rounds of {REQUESTS_PER_ROUND} requests a mode:")
    for cache_name in CACHES:
        try:
            clocks = throughput(customer, modes, cache_name)
        except Exception as error:
            print(f"  {cache_name} cache: unavailable ({error.__class__.__name__})")
            continue
        for clock, rates in clocks.items():
            line = ", ".join(
                f"{mode} {rate:.0f}/s ({rate / rates['off']:.2f})" for mode, rate in rates.items()
            )
            print(f"  rate limits in {cache_name} cache, {clock} clock: {line}")


if __name__ == "__main__":
    main()
