"""The error envelope of the API contract (section 3), for every error under /api/.

    {"errors": [{"statusCode": 400, "type": "VALIDATION_ERROR", "message": "…", "field": "email"}]}

DRF exceptions carry a code; the code becomes the `type`. Validation errors keep the generic
VALIDATION_ERROR unless their code names one of the contract's own types (UNKNOWN_FIELD,
CUSTOMER_CODE_TAKEN, ...), so a serializer can raise a precise type with an ordinary
`ValidationError(..., code="unknown_field")`.
"""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

from . import metrics

logger = logging.getLogger(__name__)

# Validation codes that are types of their own in the contract; every other one is VALIDATION_ERROR.
DOMAIN_VALIDATION_TYPES = frozenset(
    {
        "UNKNOWN_FIELD",
        "CONTACT_ALREADY_ACTIVE",
        "CONTACT_ALREADY_INACTIVE",
        "BRANCH_ID_NOT_FOUND",
        "CUSTOMER_CODE_TAKEN",
        "CUSTOMER_HAS_TRANSACTIONS",
    }
)
# DRF's own codes whose contract names differ from the code.
TYPE_FOR_CODE = {
    "parse_error": "MALFORMED_JSON",
    "not_authenticated": "NOT_AUTHENTICATED",
    "authentication_failed": "AUTHENTICATION_FAILED",
    "token_not_valid": "AUTHENTICATION_FAILED",
    "no_active_account": "AUTHENTICATION_FAILED",
    "user_inactive": "AUTHENTICATION_FAILED",
    "user_not_found": "AUTHENTICATION_FAILED",
}


class ApplicationError(Exception):
    """A rule of the domain was broken: raised by services, shown by every door.

    The API renders it as the envelope; the admin and the commands show `message`.
    `field` is the API's camelCase name of the field at fault, if one is; `extra` holds more
    keys of the error's entry, for a client to act on (`mergedInto`, `candidates`).
    """

    def __init__(
        self,
        status_code: int,
        error_type: str,
        message: str,
        field: str | None = None,
        extra: dict | None = None,
    ):
        super().__init__(message)
        self.status_code = status_code
        self.error_type = error_type
        self.message = message
        self.field = field
        self.extra = extra or {}


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than the limit."
    default_code = "payload_too_large"


def error_entry(status_code: int, error_type: str, message: str, field: str | None = None) -> dict:
    entry = {"statusCode": status_code, "type": error_type, "message": message}
    if field:
        entry["field"] = field
    return entry


def envelope(*entries: dict) -> dict:
    return {"errors": list(entries)}


def _validation_entries(detail, field: str | None = None) -> list[dict]:
    if isinstance(detail, dict):
        entries = []
        for key, value in detail.items():
            if key == "non_field_errors":  # the error of the object itself
                nested = field
            else:
                nested = key if field is None else f"{field}.{key}"
            entries += _validation_entries(value, nested)
        return entries
    if isinstance(detail, list):
        return [entry for item in detail for entry in _validation_entries(item, field)]
    code = str(getattr(detail, "code", "invalid") or "invalid").upper()
    error_type = code if code in DOMAIN_VALIDATION_TYPES else "VALIDATION_ERROR"
    return [error_entry(400, error_type, str(detail), field)]


def _entries_for(exc: exceptions.APIException) -> list[dict]:
    if isinstance(exc, exceptions.ValidationError):
        return _validation_entries(exc.detail)
    detail = exc.detail
    if isinstance(detail, dict):  # Simple JWT puts {"detail", "code", "messages"} here
        code = str(detail.get("code") or exc.default_code)
        message = str(detail.get("detail") or exc.default_detail)
    else:
        code = str(getattr(detail, "code", None) or exc.default_code)
        message = str(detail)
    error_type = TYPE_FOR_CODE.get(code, code.upper())
    if exc.status_code == status.HTTP_401_UNAUTHORIZED and error_type not in (
        "NOT_AUTHENTICATED",
        "ORGANIZATION_ID_REQUIRED",
    ):
        error_type = "AUTHENTICATION_FAILED"
    return [error_entry(exc.status_code, error_type, message)]


# How long a client should wait before retrying while the database is unreachable.
DATABASE_RETRY_AFTER_SECONDS = 5


def api_exception_handler(exc, context):
    if isinstance(exc, OperationalError | InterfaceError):
        # The database is unreachable (restarting, failing over, out of connections): say so and
        # when to retry. Django discards the broken connection and the next request reconnects.
        logger.warning("database unavailable: %s", exc)
        metrics.DATABASE_UNAVAILABLE.inc()
        entry = error_entry(
            503, "SERVICE_UNAVAILABLE", "The service is briefly unavailable; retry shortly."
        )
        return Response(
            envelope(entry),
            status=503,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, ApplicationError):
        entry = error_entry(exc.status_code, exc.error_type, exc.message, exc.field)
        return Response(envelope(entry | exc.extra), status=exc.status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None  # a bug: let Django log it and answer with handler500's JSON

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    return Response(envelope(*_entries_for(exc)), status=exc.status_code, headers=headers)


def json_error_response(status_code: int, error_type: str, message: str) -> JsonResponse:
    return JsonResponse(envelope(error_entry(status_code, error_type, message)), status=status_code)
