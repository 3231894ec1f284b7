"""Requests per API key and per user, counted in a cache every server process shares."""

from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.db.models.functions import Now
from django.test import override_settings
from django.utils import timezone

from authkeys import ratelimit
from authkeys.models import RateLimitCounter
from tests.authkeys.conftest import REDIS_TEST_URL
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
    counts = [ratelimit.count_request("key:db", rate).count for _ in range(3)]
    assert counts == [1, 2, 3]
    counter = RateLimitCounter.objects.get(name="ratelimit:key:db:60")
    assert counter.count == 3
    assert timedelta(0) < counter.expires_at - timezone.now() <= timedelta(seconds=60)
    assert [u.count for u in ratelimit.peek(["key:db"], {"key:db": rate})] == [3]
    assert caches["default"].__class__.__name__ == "DatabaseCache"


def test_the_first_request_after_a_window_ended_starts_the_next_in_the_same_row(database_cache):
    rate = ratelimit.Rate(limit=2, period=60)
    for _ in range(3):
        ratelimit.count_request("key:db", rate)
    RateLimitCounter.objects.update(expires_at=Now() - timedelta(seconds=1))  # the window ends
    assert [u.count for u in ratelimit.peek(["key:db"], {"key:db": rate})] == [0]

    usage = ratelimit.count_request("key:db", rate)

    assert (usage.count, usage.reset) == (1, 60)
    assert RateLimitCounter.objects.get(name="ratelimit:key:db:60").count == 1


def test_opening_a_window_clears_the_counters_of_windows_that_ended(database_cache):
    RateLimitCounter.objects.create(
        name="ratelimit:key:old:60", count=7, expires_at=timezone.now() - timedelta(minutes=5)
    )

    ratelimit.count_request("key:new", ratelimit.Rate(limit=2, period=60))

    assert not RateLimitCounter.objects.filter(name="ratelimit:key:old:60").exists()
    assert RateLimitCounter.objects.filter(name__startswith="ratelimit:key:new:").count() == 1


def test_a_process_clears_ended_windows_at_most_once_every_clear_every_seconds(
    database_cache, monkeypatch
):
    def ended(name):
        expired = timezone.now() - timedelta(minutes=5)
        return RateLimitCounter.objects.create(name=name, count=7, expires_at=expired)

    rate = ratelimit.Rate(limit=2, period=60)
    ended("ratelimit:key:old1:60")
    ratelimit.count_request("key:a", rate)  # opens a window: clears
    ended("ratelimit:key:old2:60")
    ratelimit.count_request("key:b", rate)  # opens another window at once: clears nothing
    assert set(
        RateLimitCounter.objects.filter(name__contains=":old").values_list("name", flat=True)
    ) == {"ratelimit:key:old2:60"}

    monkeypatch.setattr(ratelimit, "_last_cleared", ratelimit._last_cleared - ratelimit.CLEAR_EVERY)
    ratelimit.count_request("key:c", rate)
    assert not RateLimitCounter.objects.filter(name__contains=":old").exists()
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


def test_counting_in_redis_shares_counts_and_expires_them_by_redis_s_clock(redis_cache):
    rate = ratelimit.Rate(limit=2, period=60)
    counts = [ratelimit.count_request("key:redis", rate).count for _ in range(3)]
    assert counts == [1, 2, 3]
    client = redis.Redis.from_url(REDIS_TEST_URL)
    key = f"{redis_cache}:ratelimit:key:redis:60"
    assert int(client.get(key)) == 3
    assert 0 < client.pttl(key) <= 60_000  # the window, set by the request that created the key
    assert [u.count for u in ratelimit.peek(["key:redis"], {"key:redis": rate})] == [3]

    client.delete(key)  # what Redis does when the window ends
    assert ratelimit.count_request("key:redis", rate).count == 1
    assert 0 < client.pttl(key) <= 60_000


def test_a_redis_counter_that_lost_its_expiry_gets_one_back(redis_cache):
    rate = ratelimit.Rate(limit=2, period=60)
    client = redis.Redis.from_url(REDIS_TEST_URL)
    key = f"{redis_cache}:ratelimit:key:redis:60"
    client.set(key, 5)  # no expiry: it would never end

    usage = ratelimit.count_request("key:redis", rate)

    assert (usage.count, usage.reset) == (6, 60)
    assert 0 < client.pttl(key) <= 60_000


@pytest.mark.parametrize(
    ("text", "rate"),
    [("600/minute", (600, 60)), ("5/s", (5, 1)), ("20/hour", (20, 3600)), ("1/day", (1, 86400))],
)
def test_rates_are_read_from_settings(text, rate):
    with limits(api_key=text):
        found = ratelimit.Rate.for_scope("api_key")
    assert (found.limit, found.period) == rate


@pytest.fixture(params=["memory", "database", "redis"])
def store(request):
    if request.param == "database":
        request.getfixturevalue("database_cache")
    if request.param == "redis":
        request.getfixturevalue("redis_cache")
    return request.param


@pytest.mark.django_db(transaction=True)
def test_a_key_is_served_its_limit_then_refused_and_every_request_counted(
    store, key_client, tenant
):
    url = f"/api/customers/{tenant.customer.pk}"
    with limits(api_key="200/day"):  # a day: no window ends in the middle of the test
        statuses = [key_client.get(url).status_code for _ in range(260)]
        [usage] = ratelimit.peek(
            [f"key:{tenant.api_key.pk}"],
            {f"key:{tenant.api_key.pk}": ratelimit.Rate.for_scope("api_key")},
        )
    assert statuses == [200] * 200 + [429] * 60
    assert usage.count == 260  # served or refused, each counted once
