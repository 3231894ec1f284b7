"""Counterpart without the work the usual-DRF peer does not do, served by bench/load.py to price it.

    DATABASE_URL=postgres://… GUNICORN_CMD_ARGS=--reuse-port .venv/bin/python bench/load.py \
        --against bare,peer --scenarios get,put
    BARE_WITHOUT=signals .venv/bin/python bench/load.py --against bare,peer --scenarios put

The same WSGI application as config.wsgi, with the parts named in BARE_WITHOUT (comma-separated;
default all four) switched off:

- `signals`: an edit of a name, e-mail, phone or code leaves the customer's identity signals and
  the duplicate report's notes as they were (customers/matching.py, customers/duplicates.py);
- `snapshot`: the history row of an edit carries no snapshot of the customer (customers/events.py);
- `health-check`: a request uses its thread's connection without Django's `SELECT 1` first
  (CONN_HEALTH_CHECKS);
- `rate-count`: the customer API counts no request for its rate limit (authkeys/throttling.py),
  and answers no RateLimit-* headers.

Everything else (middleware, authentication, DRF, validation, the optimistic edit, the history row
and its event number, rendering) is Counterpart's own, so the rate of this server beside
Counterpart's, in one run, is what those parts cost, and beside the peer's, how far Counterpart's
code would go without them.

Never serve this outside a benchmark: it keeps no duplicate signals and enforces no rate limit.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()  # what config.wsgi serves; it sets Django up first

from django.conf import settings  # noqa: E402

from customers import events, matching  # noqa: E402
from customers.api.views import CustomerViewSet  # noqa: E402

PARTS = {"signals", "snapshot", "health-check", "rate-count"}
WITHOUT = set(filter(None, os.environ.get("BARE_WITHOUT", ",".join(PARTS)).split(",")))
if unknown := WITHOUT - PARTS:
    raise SystemExit(f"BARE_WITHOUT: no part named {', '.join(sorted(unknown))}")


def switch_off(owner, name: str, value) -> None:
    """`owner.name = value`, refusing to start if the product no longer has that name (a rename
    would otherwise leave the part switched on, and the run would price nothing)."""
    if not hasattr(owner, name):
        raise SystemExit(f"bench/bare.py: {owner.__name__}.{name} is gone; update bench/bare.py")
    setattr(owner, name, value)


if "signals" in WITHOUT:
    switch_off(matching, "IDENTITY_ATTRIBUTES", frozenset())  # no edit is an identity edit
if "snapshot" in WITHOUT:
    switch_off(events, "snapshot", lambda customer: None)
if "health-check" in WITHOUT:
    # Read when each thread's connection opens, which happens at its first request.
    settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
if "rate-count" in WITHOUT:
    switch_off(CustomerViewSet, "throttle_classes", [])
