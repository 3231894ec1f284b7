"""Tests: the same settings as production code paths, minus slow password hashing."""

from .base import *  # noqa: F403
from .base import DATABASES, env

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production-5b9e1c7a3d2f4e6a8c0b1d3f5e7a9c2b"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DATABASES["default"]["CONN_MAX_AGE"] = 0
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME", default=None)}
# Rate-limit counters in process memory: the tests' query budgets then count the application's
# statements only. tests/authkeys covers the database cache and Redis explicitly.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
