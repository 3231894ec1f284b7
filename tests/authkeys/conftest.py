import pytest
from django.core.management import call_command
from django.test import override_settings

DATABASE_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "counterpart_cache",
    }
}


@pytest.fixture
def database_cache(db):
    """The production default: counters in the database cache table, as `migrate` makes it."""
    with override_settings(CACHES=DATABASE_CACHE):
        call_command("createcachetable", verbosity=0)
        yield
