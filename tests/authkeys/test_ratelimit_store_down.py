"""An unreachable counter store lets requests through uncounted: never a 500."""

import pytest

pytestmark = pytest.mark.django_db

UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        # Port 1 on loopback: nothing listens, so every command fails at once.
        "LOCATION": "redis://127.0.0.1:1/0",
    }
}


def test_requests_pass_uncounted_when_redis_is_unreachable(tenant, key_client, settings, caplog):
    settings.CACHES = UNREACHABLE_REDIS

    response = key_client.get(f"/api/customers/{tenant.customer.pk}")

    assert response.status_code == 200
    assert "rate-limit counters unavailable" in caplog.text


def test_sign_in_works_when_redis_is_unreachable(tenant, client, settings):
    from tests.factories import PASSWORD

    settings.CACHES = UNREACHABLE_REDIS

    response = client.post(
        "/api/auth/token", {"email": tenant.owner.email, "password": PASSWORD}, format="json"
    )

    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
