import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

application = get_wsgi_application()

# Load what the first request would (the URLconf, and the views and serializers it imports), then
# move every object that exists now to the garbage collector's permanent generation. A full
# collection then walks only what requests have left behind since, not the whole of Django and
# DRF, whose walk is a pause that stalls every request of the worker (docs/performance.md).
get_resolver().url_patterns  # noqa: B018
gc.freeze()
