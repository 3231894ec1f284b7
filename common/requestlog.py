"""One log line per request, and a request id on every line an operator reads.

The id is the request's `X-Request-ID` when it sent a usable one (what a balancer or a client
made), else a new one; it goes back in the response's `X-Request-ID` and, through a context
variable, onto every log record made while the request runs (`RequestIdFilter`), so the
request's errors and warnings carry it too. The request's line names the method, the route
pattern (not the path: ids would make every line unique), the status, the duration, and the
organization and credential the request acted for: ids only, never a key, a token or a body.
"""

import contextvars
import logging
import time
import uuid

from . import metrics

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_META = (
    "HTTP_X_REQUEST_ID"  # the header as WSGI gives it, without building request.headers
)
MAX_REQUEST_ID = 128

request_id = contextvars.ContextVar("request_id", default=None)
logger = logging.getLogger("counterpart.requests")


class RequestIdFilter(logging.Filter):
    """Gives every record a `request_id` (None outside a request)."""

    def filter(self, record):
        record.request_id = request_id.get()
        return True


def usable_request_id(value: str | None) -> str | None:
    """The caller's id if it is a short run of printable ASCII without spaces; else None, and a
    new one is made: a forged 10 KB id, or one with control characters, never reaches a log."""
    usable = value and len(value) <= MAX_REQUEST_ID and value.isascii() and value.isprintable()
    return value if usable and " " not in value else None


def request_log(get_response):
    def middleware(request):
        rid = usable_request_id(request.META.get(REQUEST_ID_META)) or uuid.uuid4().hex
        # Kept until the request is finished, not only while the middleware runs: Django logs
        # 4xx and 5xx answers ("Not Found: …") after the middleware chain has returned.
        request_id.set(rid)
        started = time.perf_counter()
        response = get_response(request)
        response[REQUEST_ID_HEADER] = rid
        elapsed = time.perf_counter() - started
        match = request.resolver_match
        route = f"/{match.route}" if match is not None else "unmatched"
        metrics.REQUESTS.labels(request.method, route, response.status_code).inc()
        metrics.LATENCY.labels(request.method, route).observe(elapsed)
        if logger.isEnabledFor(logging.INFO):
            logger.info("request", extra=_fields(request, response, route, elapsed))
        return response

    return middleware


def forget_request_id(**kwargs):
    """On request_finished (connected in CommonConfig.ready): lines logged between requests
    belong to none."""
    request_id.set(None)


def _fields(request, response, route, elapsed) -> dict:
    match = request.resolver_match
    fields = {
        "method": request.method,
        "route": route,
        "status": response.status_code,
        "duration_ms": round(elapsed * 1000, 2),
        "organization_id": None,
        "api_key_id": None,
        "user_id": None,
    }
    # DRF sets the credential's principal on this request as `auth` once it has authenticated
    # (never asked of DRF's Request here: that would authenticate again after a failure). The
    # admin's and the probes' requests have none.
    principal = getattr(request, "auth", None)
    organization = getattr(principal, "organization", None)
    if organization is not None:
        fields["organization_id"] = organization.pk
        api_key, user = getattr(principal, "api_key", None), getattr(principal, "user", None)
        fields["api_key_id"] = api_key.pk if api_key is not None else None
        fields["user_id"] = user.pk if user is not None else None
    elif match is not None and match.namespace == "admin" and request.user.is_authenticated:
        fields["user_id"] = request.user.pk  # the back office's signed-in staff
    return fields
