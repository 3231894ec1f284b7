"""The throttle counts every request of a credential in its shared counter.

Authentication finds the credential (one query); CredentialRateThrottle counts the request with
one statement in the counter store: with the counters in the database (the production default),
the counter's upsert. What a client sees is the same whichever store keeps the counters.

The tests that watch the statements run as requests are served: outside the test's transaction.
"""

import logging
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection, connections, transaction
from django.test import override_settings
from django.utils import timezone

from authkeys import crypto, queries, ratelimit
from authkeys.models import ApiKey, RateLimitCounter

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


@pytest.fixture(params=["memory", "database"])
def store(request):
    if request.param == "database":
        request.getfixturevalue("database_cache")
    return request.param


def url(tenant) -> str:
    return f"/api/customers/{tenant.customer.pk}"


def remaining(response) -> int:
    return int(response["RateLimit-Remaining"])


def counter_of(name: str) -> int:
    return RateLimitCounter.objects.get(name__startswith=f"ratelimit:{name}:").count


def writes_counters(context) -> list[str]:
    return [q["sql"] for q in context.captured_queries if "authkeys_ratelimitcounter" in q["sql"]]


@pytest.mark.django_db(transaction=True)
def test_each_of_a_keys_requests_is_counted_with_one_upsert(
    database_cache, key_client, tenant, max_queries
):
    # The first request opens the window: it also clears ended windows and notes lastUsedAt.
    response = key_client.get(url(tenant))
    assert remaining(response) == 599
    assert counter_of(f"key:{tenant.api_key.pk}") == 1

    for made in range(2, 12):
        with max_queries(3) as counted:  # the key; the counter's upsert; the customer
            response = key_client.get(url(tenant))
        assert (response.status_code, remaining(response)) == (200, 600 - made)
        assert len(writes_counters(counted.context)) == 1
        assert counter_of(f"key:{tenant.api_key.pk}") == made


@pytest.mark.django_db(transaction=True)
def test_each_of_a_users_requests_with_a_jwt_is_counted_with_one_upsert(
    database_cache, jwt_client, tenant, max_queries
):
    jwt_client.get(url(tenant))  # opens the window
    for made in range(2, 12):
        with max_queries(3) as counted:  # the membership; the counter's upsert; the customer
            response = jwt_client.get(url(tenant))
        assert (response.status_code, remaining(response)) == (200, 600 - made)
        assert len(writes_counters(counted.context)) == 1
    assert counter_of(f"user:{tenant.owner.pk}") == 11


@pytest.mark.django_db(transaction=True)
def test_the_throttle_counts_in_the_counter_sign_in_failures_count_in(store, key_client, tenant):
    rate = ratelimit.Rate.for_scope("api_key")
    ratelimit.count_request(f"key:{tenant.api_key.pk}", rate)

    response = key_client.get(url(tenant))

    assert remaining(response) == rate.limit - 2
    [usage] = ratelimit.peek([f"key:{tenant.api_key.pk}"], {f"key:{tenant.api_key.pk}": rate})
    assert usage.count == 2


def test_a_refused_key_is_answered_401_without_rate_limit_headers_and_not_counted(
    store, key_client, tenant
):
    with limits(api_key="2/day"):  # a day: no window boundary in the middle of the test
        assert key_client.get(url(tenant)).status_code == 200
        tenant.organization.is_active = False
        tenant.organization.save()
        refused = key_client.get(url(tenant))
        tenant.organization.is_active = True
        tenant.organization.save()
        last = key_client.get(url(tenant))
        over = key_client.get(url(tenant))

    assert refused.status_code == 401
    assert "RateLimit-Remaining" not in refused
    # The throttle counts authenticated requests only: the key's second is the last allowed.
    assert (last.status_code, remaining(last)) == (200, 0)
    assert (over.status_code, remaining(over)) == (429, 0)


def test_a_key_over_its_limit_that_is_then_revoked_gets_401_not_429(store, key_client, tenant):
    with limits(api_key="1/day"):
        assert key_client.get(url(tenant)).status_code == 200
        assert key_client.get(url(tenant)).status_code == 429
        ApiKey.objects.filter(pk=tenant.api_key.pk).update(revoked_at=timezone.now())
        assert key_client.get(url(tenant)).status_code == 401


def test_an_unknown_key_counts_nothing(store, client, tenant):
    response = client.get(url(tenant), HTTP_AUTHORIZATION="Bearer bc_" + "0" * 96)
    assert response.status_code == 401
    assert not RateLimitCounter.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_request_that_opens_a_window_clears_the_windows_that_ended(
    database_cache, key_client, tenant
):
    RateLimitCounter.objects.create(
        name="ratelimit:key:old:60", count=7, expires_at=timezone.now() - timedelta(minutes=5)
    )

    assert key_client.get(url(tenant)).status_code == 200

    assert list(RateLimitCounter.objects.values_list("count", flat=True)) == [1]


def authenticate_and_count(tenant) -> ratelimit.Usage:
    """What a request with the tenant's key does before its view: find the key, count it."""
    api_key = queries.api_key_by_digest(crypto.digest(tenant.key))
    assert api_key.pk == tenant.api_key.pk
    return ratelimit.count_request(f"key:{api_key.pk}", ratelimit.Rate.for_scope("api_key"))


def runs_until_prepared() -> int:
    """psycopg prepares a statement on the run after `prepare_threshold` runs."""
    return connection.settings_dict["OPTIONS"]["prepare_threshold"] + 1


@pytest.mark.postgres_only
def test_postgresql_plans_the_count_once_per_connection(database_cache, tenant):
    runs = runs_until_prepared()
    with limits(api_key="60/minute"):
        for _ in range(runs):
            usage = authenticate_and_count(tenant)
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        statements = [statement for (statement,) in cursor.fetchall()]
    assert [s for s in statements if s.startswith("INSERT INTO authkeys_ratelimitcounter")]
    assert usage.count == runs


@pytest.mark.postgres_only
def test_a_rolled_back_savepoint_does_not_break_the_prepared_statements(database_cache, tenant):
    runs = runs_until_prepared()
    with limits(api_key="60/minute"):
        for _ in range(runs):
            authenticate_and_count(tenant)  # the lookup and the count prepared by the last
        try:
            with transaction.atomic():
                authenticate_and_count(tenant)
                raise ZeroDivisionError
        except ZeroDivisionError:
            pass
        usage = authenticate_and_count(tenant)
    assert usage.count == runs + 1  # the rolled-back count is gone


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_each_request_is_counted_in_the_shared_counter(
    database_cache, tenant
):
    counts = [authenticate_and_count(tenant).count for _ in range(4)]
    assert counts == [1, 2, 3, 4]
    assert counter_of(f"key:{tenant.api_key.pk}") == 4
    assert not connection.in_atomic_block


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_count_that_fails_lets_the_request_through_uncounted(
    database_cache, key_client, tenant, caplog
):
    # The key's counter at the largest bigint: counting once more fails in the database.
    RateLimitCounter.objects.create(
        name=f"ratelimit:key:{tenant.api_key.pk}:60",
        count=2**63 - 1,
        expires_at=timezone.now() + timedelta(minutes=5),
    )

    with caplog.at_level(logging.WARNING):
        response = key_client.get(url(tenant))

    assert response.status_code == 200
    assert response.json()["id"] == tenant.customer.pk
    assert remaining(response) == 600  # not counted
    assert "rate-limit counters unavailable" in caplog.text


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_connection_lost_during_the_lookup_is_json_503(store, key_client, tenant):
    assert key_client.get(url(tenant)).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        [pid] = cursor.fetchone()
    killer = connections.create_connection("default")
    try:
        with killer.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s::integer)", [pid])
    finally:
        killer.close()

    response = key_client.get(url(tenant))
    connection.close()  # the test's own connection was the one terminated

    assert response.status_code == 503
    assert response.json()["errors"][0]["type"] == "SERVICE_UNAVAILABLE"
    assert response["Retry-After"]
    assert key_client.get(url(tenant)).status_code == 200  # a new connection
