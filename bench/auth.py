"""What authentication costs: one API-key verification, and whole requests with and without it.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/counterpart_auth .venv/bin/python bench/auth.py

1. Key verification in microseconds with the one database fetch stubbed (the fetch is timed on
   its own): parse the header, check the format, SHA-256, constant-time compare, usability
   checks, the organization-id check, the lastUsedAt check, the Principal.
2. The rate-limit charge alone, per cache backend.
3. GET /api/customers/{id} through Django's WSGI stack in process (django.test.Client: the full
   middleware chain, URL resolution, DRF, the view, JSON rendering, no sockets), sequential, in
   interleaved rounds (the order rotating each round), with authentication switched off (a fixed
   Principal, no query, no rate limit) and on (API key; JWT), the throughput of each as a
   fraction of "off". Two clocks: wall time, and this process's CPU time (on a machine shared
   with other work the CPU clock ignores time spent waiting for a core; it also leaves out the
   PostgreSQL server's own work, so it understates a query's cost there, not with SQLite).
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

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client, RequestFactory, override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.request import Request  # noqa: E402
from rest_framework_simplejwt.tokens import RefreshToken  # noqa: E402

from authkeys import crypto, ratelimit  # noqa: E402
from authkeys.authentication import BearerAuthentication, Principal  # noqa: E402
from authkeys.models import ApiKey  # noqa: E402
from authkeys.services import api_key_create  # noqa: E402
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
        _charge_rate_limit = staticmethod(lambda request, principal: None)

    request = Request(RequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {key}"))
    authenticator = StubbedFetch()
    assert authenticator.authenticate(request)[1].api_key == api_key
    verify = best_microseconds(lambda: authenticator.authenticate(request), 20000)
    digest = crypto.digest(key)
    fetch = best_microseconds(lambda: BearerAuthentication._find_api_key(digest), 2000)
    sha = best_microseconds(lambda: crypto.digest(key), 100000)
    return verify, fetch, sha


def charge_cost(cache_name):
    rate = ratelimit.Rate(limit=10**9, period=60)
    with override_settings(CACHES={"default": CACHES[cache_name]}):
        if cache_name == "database":
            call_command("createcachetable", verbosity=0)
        try:
            ratelimit.charge("bench", rate)
        except Exception as error:  # Redis not running: say so and go on
            return f"unavailable ({error.__class__.__name__})"
        return f"{best_microseconds(lambda: ratelimit.charge('bench', rate), 500):.0f} µs"


class FixedPrincipal:
    """Authentication switched off: the principal is known in advance, nothing is looked up."""

    principal = None

    def authenticate(self, request):
        return self.principal.user, self.principal

    def authenticate_header(self, request):
        return "Bearer"


def throughput(customer, headers_by_mode, cache_name):
    client = Client()
    url = f"/api/customers/{customer.pk}"
    wall = {mode: [] for mode in headers_by_mode}
    cpu = {mode: [] for mode in headers_by_mode}
    modes = list(headers_by_mode)
    real = CustomerViewSet.authentication_classes
    with override_settings(CACHES={"default": CACHES[cache_name]}, REST_FRAMEWORK=UNLIMITED):
        if cache_name == "database":
            call_command("createcachetable", verbosity=0)
        for round_number in range(ROUNDS):
            shift = round_number % len(modes)
            for mode in modes[shift:] + modes[:shift]:
                headers = headers_by_mode[mode]
                CustomerViewSet.authentication_classes = [FixedPrincipal] if mode == "off" else real
                assert client.get(url, **headers).status_code == 200
                start, start_cpu = time.perf_counter(), time.process_time()
                for _ in range(REQUESTS_PER_ROUND):
                    client.get(url, **headers)
                wall[mode].append(REQUESTS_PER_ROUND / (time.perf_counter() - start))
                cpu[mode].append(REQUESTS_PER_ROUND / (time.process_time() - start_cpu))
        CustomerViewSet.authentication_classes = real
    return (
        {mode: statistics.median(values) for mode, values in wall.items()},
        {mode: statistics.median(values) for mode, values in cpu.items()},
    )


def main():
    organization, user, customer, key = fixtures()
    print(f"database: {settings.DATABASES['default']['ENGINE']}, python {sys.version.split()[0]}")

    verify, fetch, sha = verification_cost(key)
    print(f"key verification, fetch stubbed: {verify:.1f} µs (of which SHA-256: {sha:.1f} µs)")
    print(f"the one indexed fetch (key + organization + creator): {fetch:.0f} µs")
    for cache_name in CACHES:
        print(f"rate-limit charge, {cache_name} cache: {charge_cost(cache_name)}")

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
    print(f"GET /api/customers/{{id}}, {ROUNDS} interleaved rounds of {REQUESTS_PER_ROUND}:")
    for cache_name in CACHES:
        try:
            clocks = throughput(customer, modes, cache_name)
        except Exception as error:
            print(f"  {cache_name} cache: unavailable ({error.__class__.__name__})")
            continue
        for clock, rates in zip(("wall", "cpu"), clocks, strict=True):
            line = ", ".join(
                f"{mode} {rate:.0f}/s ({rate / rates['off']:.2f})" for mode, rate in rates.items()
            )
            print(f"  rate limits in {cache_name} cache, {clock} clock: {line}")


if __name__ == "__main__":
    main()
