"""Production: refuses to start without a secret key; HTTPS and its headers on by default."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import DATABASES, LOGGING, POSTGRESQL, SECRET_KEY, env

DEBUG = False
if not SECRET_KEY:
    raise ImproperlyConfigured("Set DJANGO_SECRET_KEY: production will not start without it.")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")

# By default each server thread keeps its own connection between requests (CONN_MAX_AGE), checked
# before a request uses it (CONN_HEALTH_CHECKS): with gunicorn's few threads per worker (README)
# that is as many connections as a pool would hold, without checking one out and back in on every
# request. DJANGO_DB_POOL=true gives each process Django's psycopg pool instead, for servers with
# many more threads than concurrent queries; CONN_MAX_AGE must be 0 when pooling.
if POSTGRESQL and env.bool("DJANGO_DB_POOL", default=False):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DJANGO_DB_POOL_MIN", default=2),
        "max_size": env.int("DJANGO_DB_POOL_MAX", default=8),
        # Seconds a request waits for a connection before it is answered 503: short, so that
        # during a database outage workers are not all stuck waiting.
        "timeout": env.int("DJANGO_DB_POOL_TIMEOUT", default=5),
    }

# TLS ends at the proxy in front of us; it tells us so with X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Probes come from the balancer over plain HTTP; everything else is redirected to HTTPS.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

# Logs as JSON lines, one object per record, each with its request_id (common.requestlog).
LOGGING["formatters"]["json"] = {
    "()": "pythonjsonlogger.json.JsonFormatter",
    "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
    "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
}
LOGGING["handlers"]["console"]["formatter"] = "json"
