"""The usual-DRF peer's settings: what a Django project starting from DRF's tutorial would have.

DEBUG off, persistent connections as Counterpart's production keeps them (so both pay the same
connection costs), DRF with djangorestframework-camel-case for camelCase JSON, and the project's
apps only for their models: the peer reads and writes Counterpart's tables.
"""

from pathlib import Path

import environ

env = environ.Env()

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY", default="peer-benchmark-only")
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "common",
    "organizations",
    "authkeys",
    "customers",
]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "bench.peer.urls"
# Counterpart's database: DATABASE_URL, or (unset or empty) its SQLite file beside manage.py.
DATABASES = {
    "default": env.db_url_config(
        env.str("DATABASE_URL", default="")
        or f"sqlite:///{Path(__file__).resolve().parents[2] / 'db.sqlite3'}"
    )
}
DATABASES["default"]["CONN_MAX_AGE"] = 60
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "organizations.User"
USE_TZ = True
TIME_ZONE = "UTC"
APPEND_SLASH = False

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["bench.peer.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["bench.peer.authentication.HasApiKey"],
    "DEFAULT_RENDERER_CLASSES": ["djangorestframework_camel_case.render.CamelCaseJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["djangorestframework_camel_case.parser.CamelCaseJSONParser"],
    "COERCE_DECIMAL_TO_STRING": False,
    "UNAUTHENTICATED_USER": None,
    "SEARCH_PARAM": "searchKeyword",
}
