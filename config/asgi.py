import gc
import os

from django.core.asgi import get_asgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

application = get_asgi_application()

# As config/wsgi.py: the startup objects out of the collector's full collections.
get_resolver().url_patterns  # noqa: B018
gc.freeze()
