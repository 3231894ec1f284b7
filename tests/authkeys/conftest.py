import pytest
from django.core.management import call_command
from django.test import override_settings

from authkeys import ratelimit

DATABASE_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "counterpart_cache",
    }
}


@pytest.fixture
def database_cache(db, monkeypatch):
    """The production default: counters in the database cache table, as `migrate` makes it; this
    process has not cleared ended windows yet (it does at most every CLEAR_EVERY seconds)."""
    monkeypatch.setattr(ratelimit, "_last_cleared", float("-inf"))
    with override_settings(CACHES=DATABASE_CACHE):
        call_command("createcachetable", verbosity=0)
        yield
