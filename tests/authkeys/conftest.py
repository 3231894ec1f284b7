import os
import uuid

import pytest
import redis
from django.core.management import call_command
from django.test import override_settings

from authkeys import ratelimit

DATABASE_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "counterpart_cache",
    }
}

# Not database 0: a developer's own Redis data stays out of the tests' way.
REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/5")


def redis_available() -> bool:
    try:
        return redis.Redis.from_url(REDIS_TEST_URL, socket_timeout=0.5).ping()
    except redis.RedisError:
        return False


@pytest.fixture
def database_cache(db, monkeypatch):
    """The production default: counters in the database cache table, as `migrate` makes it; this
    process has not cleared ended windows yet (it does at most every CLEAR_EVERY seconds)."""
    monkeypatch.setattr(ratelimit, "_last_cleared", float("-inf"))
    with override_settings(CACHES=DATABASE_CACHE):
        call_command("createcachetable", verbosity=0)
        yield


@pytest.fixture
def redis_cache():
    """Counters in Redis (REDIS_TEST_URL), under a prefix of this test's own, deleted after it."""
    if not redis_available():
        pytest.skip(f"no Redis server at {REDIS_TEST_URL}")
    prefix = f"counterpart-test-{uuid.uuid4().hex}"
    cache = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_TEST_URL,
            "KEY_PREFIX": prefix,
        }
    }
    with override_settings(CACHES=cache):
        yield prefix
    client = redis.Redis.from_url(REDIS_TEST_URL)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
