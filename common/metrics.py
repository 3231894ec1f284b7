"""Prometheus metrics (prometheus-client) and the `/metrics` page that serves them.

What is counted, and where:
- `counterpart_requests_total{method,route,status}` and `counterpart_request_seconds{method,route}`:
  every request, by common.requestlog's middleware (the route is the URL pattern, so ids do not
  make a series each);
- `counterpart_database_unavailable_total`: requests answered 503 because the database was
  unreachable (common.errors);
- `counterpart_rate_limited_total{scope}`: requests refused 429 (authkeys.throttling);
- `counterpart_import_rows_total{outcome}`: rows of bulk imports (customers.services).

With several worker processes, set `PROMETHEUS_MULTIPROC_DIR` to an empty directory writable by
all of them (gunicorn.conf.py in the repository clears dead workers' files): `/metrics` then
sums every process, which is what a scrape through any one worker must show. Without it, each
process reports its own.

`/metrics` answers a request with `Authorization: Bearer <METRICS_TOKEN>`, or one made directly
(no `X-Forwarded-For`: not through a proxy, whose own address says nothing of who asked it) from
an address in METRICS_ALLOWED_ADDRESSES (loopback by default); anyone else gets a plain 404, as
if there were no such page.
"""

import hmac
import ipaddress
import os

from django.conf import settings
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_safe
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter("counterpart_requests", "Requests answered.", ["method", "route", "status"])
LATENCY = Histogram(
    "counterpart_request_seconds",
    "Time to answer a request, in seconds.",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DATABASE_UNAVAILABLE = Counter(
    "counterpart_database_unavailable", "Requests answered 503: the database was unreachable."
)
RATE_LIMITED = Counter("counterpart_rate_limited", "Requests refused with 429.", ["scope"])
IMPORT_ROWS = Counter(
    "counterpart_import_rows", "Rows of bulk imports, by what became of them.", ["outcome"]
)


def _registry():
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    from prometheus_client import REGISTRY

    return REGISTRY


def _allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(header.encode(), f"Bearer {token}".encode()):
        return True
    if "X-Forwarded-For" in request.headers:
        # Through a proxy the peer is the proxy, whoever asked it: only the token will do.
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in settings.METRICS_ALLOWED_NETWORKS)


@require_safe
def metrics(request):
    if not _allowed(request):
        raise Http404
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
