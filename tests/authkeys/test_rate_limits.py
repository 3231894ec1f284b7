"""Requests per API key and per user, counted in a cache every server process shares."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache, caches
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from authkeys import ratelimit
from authkeys.models import RateLimitCounter
from tests.factories import issue_key

pytestmark = pytest.mark.django_db


def limits(**rates):
    return override_settings(
        REST_FRAMEWORK={
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {
                **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                **rates,
            },
        }
    )


def assert_headers(response, limit, remaining):
    assert response["RateLimit-Limit"] == str(limit)
    assert response["RateLimit-Remaining"] == str(remaining)
    assert 0 < int(response["RateLimit-Reset"]) <= 60


def test_default_limit_is_600_a_minute(key_client, tenant):
    response = key_client.get(f"/api/customers/{tenant.customer.pk}")
    assert response.status_code == 200
    assert_headers(response, 600, 599)


def test_every_authenticated_response_carries_the_headers_errors_too(key_client, tenant):
    responses = [
        key_client.get("/api/customers/999999"),  # 404
        key_client.get("/api/api-keys"),  # 403: a key may not manage keys
        key_client.put(f"/api/customers/{tenant.customer.pk}", {}, format="json"),  # 400
        key_client.post(f"/api/customers/{tenant.customer.pk}", {}, format="json"),  # 405
    ]
    assert [response.status_code for response in responses] == [404, 403, 400, 405]
    for used, response in enumerate(responses, start=1):
        assert_headers(response, 600, 600 - used)


def test_key_over_its_limit_gets_429_with_retry_after(key_client, tenant):
    url = f"/api/customers/{tenant.customer.pk}"
    with limits(api_key="3/minute"):
        statuses = [key_client.get(url).status_code for _ in range(3)]
        blocked = key_client.get(url)
    assert statuses == [200, 200, 200]
    assert blocked.status_code == 429
    [error] = blocked.json()["errors"]
    assert (error["statusCode"], error["type"]) == (429, "THROTTLED")
    assert 0 < int(blocked["Retry-After"]) <= 60
    assert_headers(blocked, 3, 0)


def test_a_request_a_permission_refuses_counts_and_over_the_limit_is_429(key_client, tenant):
    with limits(api_key="2/minute"):
        assert key_client.get(f"/api/customers/{tenant.customer.pk}").status_code == 200
        refused = key_client.get("/api/api-keys")  # a key may not manage keys
        blocked = key_client.get("/api/api-keys")

    assert refused.status_code == 403
    assert_headers(refused, 2, 0)
    assert blocked.status_code == 429  # the limit is checked before the permission is refused
    assert blocked.json()["errors"][0]["type"] == "THROTTLED"
    assert_headers(blocked, 2, 0)


def test_each_key_has_its_own_counter(client, key_client, tenant, other_tenant):
    second = issue_key(tenant.organization, tenant.owner)
    with limits(api_key="1/minute"):
        assert key_client.get(f"/api/customers/{tenant.customer.pk}").status_code == 200
        assert key_client.get(f"/api/customers/{tenant.customer.pk}").status_code == 429
        response = client.get(
            f"/api/customers/{tenant.customer.pk}", HTTP_AUTHORIZATION=f"Bearer {second}"
        )
        assert response.status_code == 200
        response = client.get(
            f"/api/customers/{other_tenant.customer.pk}",
            HTTP_AUTHORIZATION=f"Bearer {other_tenant.key}",
        )
        assert response.status_code == 200


def test_user_limit_counts_across_organizations(jwt_client, tenant):
    with limits(user="2/minute"):
        first = jwt_client.get(f"/api/customers/{tenant.customer.pk}")
        jwt_client.get("/api/api-keys")
        blocked = jwt_client.get(f"/api/customers/{tenant.customer.pk}")
    assert_headers(first, 2, 1)
    assert blocked.status_code == 429
    assert blocked.json()["errors"][0]["type"] == "THROTTLED"


def test_unauthenticated_responses_carry_no_rate_limit_headers(client, tenant):
    response = client.get(f"/api/customers/{tenant.customer.pk}")
    assert response.status_code == 401
    assert "RateLimit-Limit" not in response


def test_counting_in_the_database_cache_shares_counts_through_the_database(database_cache):
    rate = ratelimit.Rate(limit=2, period=60)
    counts = [ratelimit.charge("key:db", rate, now=120.0).count for _ in range(3)]
    assert counts == [1, 2, 3]
    assert RateLimitCounter.objects.get(name="ratelimit:key:db:60:2").count == 3
    assert [u.count for u in ratelimit.peek(["key:db"], {"key:db": rate}, 120.0)] == [3]
    assert ratelimit.charge("key:db", rate, now=180.0).count == 1  # the next window
    assert caches["default"].__class__.__name__ == "DatabaseCache"


def test_opening_a_window_clears_the_counters_of_windows_that_ended(database_cache):
    RateLimitCounter.objects.create(
        name="ratelimit:key:old:60:1", count=7, expires_at=timezone.now() - timedelta(minutes=5)
    )

    ratelimit.charge("key:new", ratelimit.Rate(limit=2, period=60))

    assert not RateLimitCounter.objects.filter(name="ratelimit:key:old:60:1").exists()
    assert RateLimitCounter.objects.filter(name__startswith="ratelimit:key:new:").count() == 1


def test_a_process_clears_ended_windows_at_most_once_every_clear_every_seconds(
    database_cache, monkeypatch
):
    def ended(name):
        expired = timezone.now() - timedelta(minutes=5)
        return RateLimitCounter.objects.create(name=name, count=7, expires_at=expired)

    rate = ratelimit.Rate(limit=2, period=60)
    ended("ratelimit:key:old:60:1")
    ratelimit.charge("key:a", rate)  # opens a window: clears
    ended("ratelimit:key:old:60:2")
    ratelimit.charge("key:b", rate)  # opens another window at once: clears nothing
    assert set(
        RateLimitCounter.objects.filter(name__contains=":old:").values_list("name", flat=True)
    ) == {"ratelimit:key:old:60:2"}

    monkeypatch.setattr(ratelimit, "_last_cleared", ratelimit._last_cleared - ratelimit.CLEAR_EVERY)
    ratelimit.charge("key:c", rate)
    assert not RateLimitCounter.objects.filter(name__contains=":old:").exists()
    assert RateLimitCounter.objects.count() == 3  # key:a, key:b, key:c


@pytest.mark.postgres_only
def test_the_counters_table_skips_the_write_ahead_log_on_postgresql():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relpersistence FROM pg_class WHERE relname = %s",
            [RateLimitCounter._meta.db_table],
        )
        assert cursor.fetchone() == ("u",)


def test_requests_over_the_limit_in_the_database_cache_get_429(database_cache, key_client, tenant):
    url = f"/api/customers/{tenant.customer.pk}"
    with limits(api_key="2/minute"):
        statuses = [key_client.get(url).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def _redis_available() -> bool:
    import redis

    try:
        return redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_timeout=0.5).ping()
    except redis.RedisError:
        return False


@pytest.mark.skipif(not _redis_available(), reason="no Redis at 127.0.0.1:6379")
def test_counting_in_redis_shares_counts_and_expires_them(tenant):
    import uuid

    import redis

    redis_cache = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/0",
            "KEY_PREFIX": f"counterpart-test-{uuid.uuid4().hex}",
        }
    }
    with override_settings(CACHES=redis_cache):
        rate = ratelimit.Rate(limit=2, period=60)
        counts = [ratelimit.charge("key:redis", rate, now=120.0).count for _ in range(3)]
        assert counts == [1, 2, 3]
        assert cache.get("ratelimit:key:redis:60:2") == 3
        client = redis.Redis.from_url(redis_cache["default"]["LOCATION"])
        full_key = caches["default"].make_key("ratelimit:key:redis:60:2")
        assert 0 < client.ttl(full_key) <= 61
        assert [u.count for u in ratelimit.peek(["key:redis"], {"key:redis": rate}, 120.0)] == [3]
        cache.delete("ratelimit:key:redis:60:2")


@pytest.mark.parametrize(
    ("text", "rate"),
    [("600/minute", (600, 60)), ("5/s", (5, 1)), ("20/hour", (20, 3600)), ("1/day", (1, 86400))],
)
def test_rates_are_read_from_settings(text, rate):
    with limits(api_key=text):
        found = ratelimit.Rate.for_scope("api_key")
    assert (found.limit, found.period) == rate


# Leases: each process counts a few of a credential's requests at once (authkeys.ratelimit.Leases).


@pytest.fixture(params=["memory", "database", "redis"])
def store(request):
    if request.param == "database":
        request.getfixturevalue("database_cache")
    if request.param == "redis":
        if not _redis_available():
            pytest.skip("no Redis at 127.0.0.1:6379")
        import uuid

        prefix = f"counterpart-test-{uuid.uuid4().hex}"
        redis_cache = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": "redis://127.0.0.1:6379/0",
                "KEY_PREFIX": prefix,
            }
        }
        with override_settings(CACHES=redis_cache):
            yield request.param
        import redis

        client = redis.Redis.from_url(redis_cache["default"]["LOCATION"])
        for key in client.scan_iter(f"{prefix}:*"):  # this test's counters only
            client.delete(key)
        return
    yield request.param


# Outside a test's transaction, as requests are served: a count in a transaction takes no lease.
@pytest.mark.django_db(transaction=True)
def test_processes_sharing_a_counter_never_let_more_than_the_limit_through(
    store, key_client, tenant, monkeypatch
):
    """Two server processes, each with its own leases, take turns serving one key's requests:
    together they serve exactly the limit, then refuse every request."""
    processes = [ratelimit.Leases(), ratelimit.Leases()]
    url = f"/api/customers/{tenant.customer.pk}"
    statuses = []
    with limits(api_key="200/day"):  # a day: no window boundary in the middle of the test
        for turn in range(260):
            monkeypatch.setattr(ratelimit, "LEASES", processes[turn % 2])
            statuses.append(key_client.get(url).status_code)
        [usage] = ratelimit.peek(
            [f"key:{tenant.api_key.pk}"],
            {f"key:{tenant.api_key.pk}": ratelimit.Rate.for_scope("api_key")},
        )
    assert statuses == [200] * 200 + [429] * 60
    # Every request, served or refused, was counted in the shared counter (in leases, some of
    # whose requests the end of the test left unmade).
    assert usage.count >= 260


def test_a_lease_is_a_small_share_of_what_is_left_and_one_request_near_the_limit():
    leases, rate, now = ratelimit.Leases(), ratelimit.Rate(limit=6400, period=60), 120.0
    name = "key:1"
    assert leases.size(name, rate, now) == ratelimit.LEASE_MAX  # 6400 // 64 = 100, capped

    def counted(count):
        usage = ratelimit.Usage(limit=rate.limit, count=count, reset=1)
        return leases.grant(name, rate, usage, 1, now)

    counted(6400 - 64 * 5)
    assert leases.size(name, rate, now) == 5
    counted(6400 - 63)
    assert leases.size(name, rate, now) == 1  # near the limit: every request counted
    counted(6401)
    # Over the limit every request is refused, each still counted: in the largest leases.
    assert leases.size(name, rate, now) == ratelimit.LEASE_MAX
    assert leases.size(name, rate, now + 60) == ratelimit.LEASE_MAX  # a new window: all left


def test_a_lease_hands_out_its_requests_in_order_and_only_in_its_window():
    leases, rate, now = ratelimit.Leases(), ratelimit.Rate(limit=600, period=60), 120.0
    usage = ratelimit.Usage(limit=600, count=12, reset=60)  # a lease of 3 counted: 10, 11, 12

    first = leases.grant("key:7", rate, usage, 3, now)

    assert first.count == 10
    assert [leases.take("key:7", rate, now + 1).count for _ in range(2)] == [11, 12]
    assert leases.take("key:7", rate, now + 1) is None  # used up
    assert leases.take("key:8", rate, now + 1) is None  # each counter has its own lease
    leases.grant("key:7", rate, ratelimit.Usage(600, 15, 60), 3, now)
    assert leases.take("key:7", rate, now + 60) is None  # the next window starts afresh
    assert leases.take("key:7", rate, now + 2) == ratelimit.Usage(600, 14, 58)


def test_a_count_that_failed_holds_no_lease():
    leases, rate = ratelimit.Leases(), ratelimit.Rate(limit=600, period=60)
    uncounted = ratelimit.Usage(limit=600, count=0, reset=60)  # the counters were unreachable

    assert leases.grant("key:7", rate, uncounted, 9, 120.0) == uncounted
    assert leases.take("key:7", rate, 121.0) is None


@pytest.mark.django_db(transaction=True)
def test_inside_a_transaction_each_request_is_counted_alone(database_cache):
    from django.db import transaction

    rate = ratelimit.Rate(limit=600, period=86400)
    with transaction.atomic():  # a count here could be rolled back: no lease is reserved
        counts = [ratelimit.count_request("key:7", rate).count for _ in range(3)]
        assert counts == [1, 2, 3]
        assert RateLimitCounter.objects.get().count == 3
    assert ratelimit.count_request("key:7", rate).count == 4  # outside: a lease of the next ones
    assert RateLimitCounter.objects.get().count == 3 + 600 // ratelimit.LEASE_SHARE


def test_leases_two_threads_counted_at_once_are_both_handed_out():
    leases, rate, now = ratelimit.Leases(), ratelimit.Rate(limit=600, period=60), 120.0
    # Two threads found the lease used up and each counted a new one: 10-12, then 13-15.
    assert leases.grant("key:7", rate, ratelimit.Usage(600, 12, 60), 3, now).count == 10
    assert leases.grant("key:7", rate, ratelimit.Usage(600, 15, 60), 3, now).count == 13

    taken = [leases.take("key:7", rate, now) for _ in range(5)]

    assert [usage.count for usage in taken[:4]] == [11, 12, 14, 15]
    assert taken[4] is None
