"""Probes for a load balancer and an orchestrator: plain Django views, outside the API.

`/healthz` says the process answers, touching nothing else: a failing database must not make a
balancer kill processes that would serve again as soon as it is back. `/readyz` says the process
can serve requests: the database answers a trivial query within READY_TIMEOUT_MS. Neither needs
credentials, neither is rate limited (they are not DRF views), and production settings exempt
both from the HTTPS redirect (SECURE_REDIRECT_EXEMPT), as balancers probe over plain HTTP.
"""

import logging

from django.db import DatabaseError, connection, transaction
from django.http import JsonResponse
from django.views.decorators.http import require_safe

READY_TIMEOUT_MS = 2000
RETRY_AFTER_SECONDS = 5

logger = logging.getLogger(__name__)


@require_safe
def healthz(request):
    return JsonResponse({"status": "ok"})


@require_safe
def readyz(request):
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"SET LOCAL statement_timeout = {READY_TIMEOUT_MS}")
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        logger.warning("Not ready: the database did not answer: %s", error)
        response = JsonResponse({"status": "unavailable", "database": "down"}, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return JsonResponse({"status": "ok", "database": "up"})
