"""What Django and DRF alone cost a request on this machine: the framework's share of a GET.

    DATABASE_URL=postgres://… .venv/bin/python bench/framework_cost.py

Serves, in one process under production settings and with no network (as bench/profile_put.py
does), three views that do no work: a plain Django view returning a fixed JSON body, first through
Django's handler with no middleware, then through Counterpart's middleware; and a DRF APIView
returning a two-key dict, with no authentication, permission or throttle, through the middleware.
Prints the CPU time per request of each, best of three runs. Compare with `bench/profile_put.py
--time-only --method GET` for Counterpart's GET and, with `--app floor`, the floor's: what is left
above the DRF view is Counterpart's own work for the request.
"""

import sys
import time
import types
from pathlib import Path
from wsgiref.util import setup_testing_defaults

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.in_process import use_production_settings

use_production_settings()

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.test import override_settings  # noqa: E402
from django.urls import path  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402

REQUESTS = 5000


class NothingView(APIView):
    authentication_classes = []
    permission_classes = []
    throttle_classes = []

    def get(self, request, pk):
        return Response({"id": pk, "name": "nothing"})


def plain_view(request, pk):
    return HttpResponse(b'{"id":1,"name":"nothing"}', content_type="application/json")


URLS = types.ModuleType("bench_framework_urls")
URLS.urlpatterns = [
    path("api/plain/<int:pk>", plain_view),
    path("api/drf/<int:pk>", NothingView.as_view()),
]
sys.modules[URLS.__name__] = URLS


def environ(path_info: str) -> dict:
    result = {"REQUEST_METHOD": "GET", "PATH_INFO": path_info, "HTTP_HOST": "127.0.0.1"}
    setup_testing_defaults(result)
    return result


def cpu_per_request(application, path_info: str) -> float:
    """Microseconds of this process's CPU per request, best of three runs."""
    statuses = []
    for _ in range(200):  # warm up
        b"".join(application(environ(path_info), lambda status, headers: statuses.append(status)))
    if not statuses[-1].startswith("200"):
        raise SystemExit(f"{path_info} answered {statuses[-1]}")
    best = float("inf")
    for _ in range(3):
        environs = [environ(path_info) for _ in range(REQUESTS)]
        started = time.process_time()
        for env in environs:
            response = application(env, lambda status, headers: None)
            b"".join(response)
            response.close()
        best = min(best, (time.process_time() - started) / REQUESTS * 1e6)
    return best


def main() -> None:
    rows = []
    for label, middleware, path_info in [
        ("a Django view, no middleware", [], "/api/plain/1"),
        ("a Django view, Counterpart's middleware", settings.MIDDLEWARE, "/api/plain/1"),
        ("a DRF APIView, Counterpart's middleware", settings.MIDDLEWARE, "/api/drf/1"),
    ]:
        with override_settings(ROOT_URLCONF=URLS.__name__, MIDDLEWARE=middleware):
            rows.append((label, cpu_per_request(WSGIHandler(), path_info)))
    for label, microseconds in rows:
        print(f"{label}: {microseconds:.0f} µs CPU per request (one process, no network)")


if __name__ == "__main__":
    main()
