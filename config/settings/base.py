"""Settings shared by every environment. Everything that differs comes from the environment."""

import ipaddress
from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
env_file = BASE_DIR / ".env"
if env_file.exists():
    env.read_env(str(env_file))

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "common",
    "organizations",
    "authkeys",
    "customers",
    "webhooks",
    "cluster",
]

# Sessions, the session's user and messages are the admin's: common.middleware passes /api/ by them.
MIDDLEWARE = [
    "common.requestlog.request_log",
    "django.middleware.security.SecurityMiddleware",
    "common.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "common.middleware.AuthenticationMiddleware",
    "common.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "authkeys.middleware.rate_limit_headers",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
# API paths work with and without a trailing slash through the router; nothing redirects.
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# DATABASE_URL unset: an SQLite file beside manage.py, so a newcomer needs nothing installed.
# An empty DATABASE_URL counts as unset.
DATABASES = {
    "default": env.db_url_config(
        env.str("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    )
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
# A kept connection is checked before a request uses it, so one the server dropped (a restart, a
# failover) is replaced instead of failing the request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
POSTGRESQL = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
# Behind a pooler in transaction mode (PgBouncer's pool_mode = transaction), a connection is the
# server's only for one transaction: nothing may outlive it. So no prepared statements (PgBouncer
# before 1.21 cannot keep them) and no server-side cursors (Django's `.iterator()` outside a
# transaction would hold one open across transactions); tests/reliability/test_pgbouncer.py.
TRANSACTION_POOLING = env.bool("DJANGO_DB_TRANSACTION_POOLING", default=False)
if POSTGRESQL:
    # Parameters are bound on the server, and a statement a connection has run five times is
    # prepared (psycopg's default threshold): the server then parses and plans each statement of
    # a request once per connection, not once per request. Binding on the server works behind a
    # transaction pooler too; preparing does not.
    prepared = env.bool("DJANGO_DB_PREPARED_STATEMENTS", default=not TRANSACTION_POOLING)
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=5 if prepared else None
    )
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = TRANSACTION_POOLING
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Webhook delivery's job engine keeps its jobs in PostgreSQL (webhooks/tasks.py says why).
if POSTGRESQL:
    INSTALLED_APPS.insert(INSTALLED_APPS.index("webhooks"), "procrastinate.contrib.django")

AUTH_USER_MODEL = "organizations.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# The contract's limit on an API body; the JSON parser enforces it while reading.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=1024 * 1024)
# How long the event feed (GET /api/events) keeps an event; an older cursor is answered 410.
EVENT_RETENTION_DAYS = env.int("EVENT_RETENTION_DAYS", default=90)
# Webhooks (webhooks/): each attempt's time limit, unless the endpoint sets its own; how long a
# failing delivery is retried, with back-off from BASE to MAX seconds between attempts; after how
# long of failing an endpoint is disabled; the worker's periodic sweep; when a silent worker's
# jobs are taken over. WEBHOOKS_ALLOW_LOOPBACK_HTTP admits http:// and loopback addresses: for
# development and tests only (`check --deploy` warns).
WEBHOOK_TIMEOUT_SECONDS = env.int("WEBHOOK_TIMEOUT_SECONDS", default=10)
WEBHOOK_RETRY_DAYS = env.float("WEBHOOK_RETRY_DAYS", default=3)
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=5)
WEBHOOK_RETRY_MAX_SECONDS = env.float("WEBHOOK_RETRY_MAX_SECONDS", default=6 * 3600)
WEBHOOK_DISABLE_AFTER_DAYS = env.float("WEBHOOK_DISABLE_AFTER_DAYS", default=3)
WEBHOOK_SWEEP_CRON = env("WEBHOOK_SWEEP_CRON", default="* * * * *")
WEBHOOK_STALLED_AFTER_SECONDS = env.float("WEBHOOK_STALLED_AFTER_SECONDS", default=30)
WEBHOOKS_ALLOW_LOOPBACK_HTTP = env.bool("WEBHOOKS_ALLOW_LOOPBACK_HTTP", default=False)
PROCRASTINATE_WORKER_DEFAULTS = {
    "queues": ["webhooks"],
    "concurrency": env.int("WEBHOOK_WORKER_CONCURRENCY", default=8),
    "delete_jobs": "successful",
    "update_heartbeat_interval": max(1.0, WEBHOOK_STALLED_AFTER_SECONDS / 3),
    "stalled_worker_timeout": WEBHOOK_STALLED_AFTER_SECONDS,
    # Jobs queued are announced at once (LISTEN/NOTIFY); retries that come due are found by this.
    "fetch_job_polling_interval": env.float("WEBHOOK_WORKER_POLL_SECONDS", default=5),
}
# The largest file `POST /api/import/file` takes (413 beyond), refused before it is read.
API_MAX_UPLOAD_BYTES = env.int("API_MAX_UPLOAD_BYTES", default=100 * 1024 * 1024)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["authkeys.authentication.BearerAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["authkeys.permissions.HasOrganization"],
    "DEFAULT_THROTTLE_CLASSES": ["authkeys.throttling.CredentialRateThrottle"],
    "DEFAULT_PARSER_CLASSES": ["common.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["common.renderers.ORJSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "common.negotiation.RememberedNegotiation",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "common.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "COERCE_DECIMAL_TO_STRING": False,
    "DEFAULT_METADATA_CLASS": "common.metadata.NameOnlyMetadata",
    # Requests per credential (authkeys.ratelimit) and failed sign-ins; "N/second|minute|hour|day".
    "DEFAULT_THROTTLE_RATES": {
        "api_key": env("API_RATE_LIMIT_PER_KEY", default="600/minute"),
        "user": env("API_RATE_LIMIT_PER_USER", default="600/minute"),
        "sign_in_email": env("SIGN_IN_FAILURES_PER_EMAIL", default="20/hour"),
        "sign_in_address": env("SIGN_IN_FAILURES_PER_ADDRESS", default="100/hour"),
    },
    # Proxies in front of us that append to X-Forwarded-For; 0 uses REMOTE_ADDR and ignores it.
    "NUM_PROXIES": env.int("DJANGO_NUM_PROXIES", default=0),
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "UPDATE_LAST_LOGIN": False,
    # Each refresh hands out a new refresh token and blacklists the old one, so a stolen refresh
    # token works once at most; logout and password changes blacklist them too.
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "TOKEN_OBTAIN_SERIALIZER": "authkeys.tokens.SignInSerializer",
    "TOKEN_REFRESH_SERIALIZER": "authkeys.tokens.RefreshSerializer",
    "TOKEN_BLACKLIST_SERIALIZER": "authkeys.tokens.LogoutSerializer",
}

# The shared cache, which every server process sees: Redis when REDIS_URL is set, otherwise the
# database's cache table (made by authkeys' migration 0002). Rate-limit counters follow it: in
# Redis with it, else in their own table (authkeys.models.RateLimitCounter; authkeys/ratelimit.py).
REDIS_URL = env("REDIS_URL", default="")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "counterpart_cache",
            # Past MAX_ENTRIES rows Django deletes the expired ones, then a third of the live
            # ones: it must exceed what is cached at once (the admin dashboard's figures, one
            # entry per organization and user for a minute). Every write counts the rows, so not
            # much higher than that.
            "OPTIONS": {"MAX_ENTRIES": env.int("DJANGO_DB_CACHE_MAX_ENTRIES", default=10_000)},
        }
    )
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Counterpart API",
    "DESCRIPTION": (
        "Customers of an accounting product, served with Bigcapital's customer API. "
        "Authenticate with `Authorization: Bearer bc_…` (an API key) or a JWT from "
        "`POST /api/auth/token` together with the `organization-id` header."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_AUTHENTICATION": [],
    "PREPROCESSING_HOOKS": ["common.schema.strip_trailing_slashes"],
    "ENUM_NAME_OVERRIDES": {
        "ResponseCasingEnum": "organizations.models.ResponseCasing",
        # Every field of a merge's choices takes the same two values: one enum, not forty.
        "MergeChoiceEnum": "customers.api.duplicates.MERGE_CHOICES",
        "CustomerTypeEnum": "customers.models.Customer.CustomerType",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "common.schema.document_common_answers",
    ],
}

# /metrics (common.metrics): from these networks, or with `Authorization: Bearer METRICS_TOKEN`.
METRICS_ALLOWED_NETWORKS = [
    ipaddress.ip_network(network)
    for network in env.list("METRICS_ALLOWED_ADDRESSES", default=["127.0.0.1/32", "::1/128"])
]
METRICS_TOKEN = env("METRICS_TOKEN", default="")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "common.requestlog.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    # One INFO line per request (common.requestlog), under DJANGO_LOG_LEVEL like every other
    # line; DJANGO_REQUEST_LOG=false turns it off alone.
    "loggers": {
        # Every process that loads the apps registers the webhook tasks; that is not news.
        "procrastinate.blueprints": {"level": "WARNING"},
        "procrastinate.periodic": {"level": "WARNING"},
        "procrastinate.jobs": {"level": "WARNING"},
        **(
            {}
            if env.bool("DJANGO_REQUEST_LOG", default=True)
            else {"counterpart.requests": {"level": "WARNING"}}
        ),
    },
}
