"""The throttle counts a credential's requests a few at a time.

Authentication finds the credential (one query); CredentialRateThrottle counts the request. A count
in the shared counter reserves a lease of the credential's next requests in this process
(authkeys.ratelimit.Leases), which are then counted without writing: most requests run the lookup
alone, and one in a lease also the counter's upsert (with the counters in the database, the
production default). What a client sees is the same whichever store keeps the counters.

Leases are taken outside a transaction only (a count that could be rolled back reserves nothing),
so the tests that watch them run as requests are served: outside the test's transaction.
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


LEASE = 600 // ratelimit.LEASE_SHARE  # a new lease of the default limit, 600 a minute


@pytest.mark.django_db(transaction=True)
def test_a_keys_requests_are_counted_a_lease_at_a_time(
    database_cache, key_client, tenant, max_queries
):
    # The first request opens the window: it also clears ended windows and notes lastUsedAt.
    response = key_client.get(url(tenant))
    assert remaining(response) == 599
    assert counter_of(f"key:{tenant.api_key.pk}") == LEASE  # the whole lease is counted

    for made in range(2, LEASE + 1):  # the rest of the lease: the lookup alone, nothing written
        with max_queries(2) as leased:  # the key; the customer
            response = key_client.get(url(tenant))
        assert (response.status_code, remaining(response)) == (200, 600 - made)
        assert writes_counters(leased.context) == []
    assert counter_of(f"key:{tenant.api_key.pk}") == LEASE

    with max_queries(3) as next_lease:  # the key; the next lease's count; the customer
        response = key_client.get(url(tenant))
    assert (response.status_code, remaining(response)) == (200, 600 - LEASE - 1)
    assert len(writes_counters(next_lease.context)) == 1
    assert counter_of(f"key:{tenant.api_key.pk}") == LEASE + (600 - LEASE) // 64


@pytest.mark.django_db(transaction=True)
def test_a_users_requests_with_a_jwt_are_counted_a_lease_at_a_time(
    database_cache, jwt_client, tenant, max_queries
):
    jwt_client.get(url(tenant))  # opens the window
    for _ in range(LEASE - 1):
        with max_queries(2) as leased:  # the membership; the customer
            jwt_client.get(url(tenant))
        assert writes_counters(leased.context) == []
    with max_queries(3) as next_lease:  # the membership; the next lease's count; the customer
        response = jwt_client.get(url(tenant))
    assert (response.status_code, remaining(response)) == (200, 600 - LEASE - 1)
    assert len(writes_counters(next_lease.context)) == 1
    assert counter_of(f"user:{tenant.owner.pk}") == LEASE + (600 - LEASE) // 64


@pytest.mark.django_db(transaction=True)
def test_the_throttle_counts_in_the_counter_charge_counts_in(store, key_client, tenant):
    rate = ratelimit.Rate.for_scope("api_key")
    ratelimit.charge(f"key:{tenant.api_key.pk}", rate)

    response = key_client.get(url(tenant))

    assert remaining(response) == rate.limit - 2
    [usage] = ratelimit.peek([f"key:{tenant.api_key.pk}"], {f"key:{tenant.api_key.pk}": rate})
    assert usage.count == 1 + rate.limit // ratelimit.LEASE_SHARE  # the charge, and a lease


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
        name="ratelimit:key:old:60:1", count=7, expires_at=timezone.now() - timedelta(minutes=5)
    )

    assert key_client.get(url(tenant)).status_code == 200

    assert list(RateLimitCounter.objects.values_list("count", flat=True)) == [LEASE]


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
    with limits(api_key="60/minute"):  # a lease of one request: every request counts
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
    with limits(api_key="60/minute"):  # a lease of one request: every request counts
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
def test_outside_a_transaction_requests_are_counted_from_a_lease(database_cache, tenant):
    counts = [authenticate_and_count(tenant).count for _ in range(4)]
    assert counts == [1, 2, 3, 4]
    assert counter_of(f"key:{tenant.api_key.pk}") == LEASE
    assert not connection.in_atomic_block


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_count_that_fails_lets_the_request_through_uncounted(
    database_cache, key_client, tenant, caplog
):
    # The key's counter at the largest bigint: counting once more fails in the database.
    now = timezone.now()
    window = int(now.timestamp() // 60)
    for number in (window, window + 1):
        RateLimitCounter.objects.create(
            name=f"ratelimit:key:{tenant.api_key.pk}:60:{number}",
            count=2**63 - 1,
            expires_at=now + timedelta(minutes=5),
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
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        killer.close()

    response = key_client.get(url(tenant))
    connection.close()  # the test's own connection was the one terminated

    assert response.status_code == 503
    assert response.json()["errors"][0]["type"] == "SERVICE_UNAVAILABLE"
    assert response["Retry-After"]
    assert key_client.get(url(tenant)).status_code == 200  # a new connection
