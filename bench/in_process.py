"""Settings for benchmarks that call Counterpart's WSGI application in their own process."""

import os
import secrets


def use_production_settings() -> None:
    """config.settings.production, as README serves it, for requests to 127.0.0.1 over plain
    HTTP; warnings only in the log. Call before Django is imported."""
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_LOG_LEVEL="WARNING",
    )
