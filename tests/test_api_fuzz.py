"""Schemathesis against our own OpenAPI document, in-process, with a real API key.

Every documented operation is exercised with generated valid and invalid input and every check is
on: no 5xx, status codes, headers and bodies as documented, invalid input rejected, requests
without credentials refused, valid input accepted. Fixed seed and bounded examples keep CI fast
and repeatable.

One check is sharpened rather than switched off: a schema-valid request may still break a rule
that depends on stored state or on two fields together, which OpenAPI cannot express (the
customer is already active, the branch does not exist, the code is taken, the ETag is stale,
zipcode and postcode disagree, an expiry date has passed). The contract answers those with their
own error types, so a rejection passes only when every error it names is one of those rules.
Likewise no 5xx, but for the one a server on SQLite documents: webhooks need PostgreSQL (501).
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, connection
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.conftest import access_token
from tests.factories import CustomerFactory

schema = schemathesis.openapi.from_wsgi("/api/schema", get_wsgi_application())

pytestmark = pytest.mark.django_db

STATE_RULES = {
    "CONTACT_ALREADY_ACTIVE",
    "CONTACT_ALREADY_INACTIVE",
    "BRANCH_ID_NOT_FOUND",
    "CUSTOMER_CODE_TAKEN",
    "CUSTOMER_HAS_TRANSACTIONS",
    "PRECONDITION_FAILED",
    "IDEMPOTENCY_KEY_REUSED",
    # Duplicates and merge: what the two customers are, and whether one was merged already.
    "CUSTOMER_POSSIBLE_DUPLICATE",
    "CUSTOMER_NOT_FOUND",
    "CUSTOMER_MERGED",
    "CUSTOMER_NOT_MERGED",
    "MERGE_INTO_SELF",
    "MERGE_CURRENCY_MISMATCH",
    "MERGE_EXCHANGE_RATE_MISMATCH",
    "MERGE_AMOUNT_TOO_LARGE",
    # Bulk files: what a file holds, and the steps already taken on an upload.
    "IMPORTED_FILE_EXTENSION_INVALID",
    "IMPORTED_FILE_INVALID",
    "INVALID_MAP_ATTRS",
    "DUPLICATED_FROM_MAP_ATTR",
    "DUPLICATED_TO_MAP_ATTR",
    "INVALID_MAP_DATE_FORMAT",
    "IMPORT_FILE_NOT_MAPPED",
}


def is_cross_field_or_clock_rule(error: dict) -> bool:
    field, message = error.get("field", ""), error["message"]
    spelled_twice = message.startswith("Conflicts with") or "one spelling" in message
    opening_balance_undated = field == "openingBalanceAt" and message.startswith("Required when")
    expiry_in_the_past = field == "expiresAt" and message == "Must be in the future."
    # Filter roles are JSON inside a query parameter: a structure OpenAPI cannot state there.
    filter_roles = field in ("filterRoles", "stringifiedFilterRoles")
    # The upload's params are JSON inside a form field; a mapping must name the required fields;
    # an empty file is no file (Django's upload handling), which a binary schema cannot state.
    import_params = field == "params" or field.startswith("params.") or field in ("mapping", "file")
    # The event feed's cursor must name a position the organization has reached.
    cursor_ahead = field == "after" and message == "No event has this position yet."
    # A webhook's host must resolve, to public addresses only: DNS's answer, not the schema's.
    webhook_host = field == "url" and " resolve" in message
    return (
        spelled_twice
        or opening_balance_undated
        or expiry_in_the_past
        or filter_roles
        or import_params
        or cursor_ahead
        or webhook_host
    )


@schemathesis.check
def valid_data_accepted_unless_a_stateful_rule_says_no(ctx, response, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code < 400:
        return None
    if response.status_code in (401, 403, 404, 409, 429) or response.status_code >= 500:
        return None  # credentials, tenancy, missing rows; 5xx has its own check
    errors = response.json()["errors"]
    explained = all(e["type"] in STATE_RULES or is_cross_field_or_clock_rule(e) for e in errors)
    assert explained, f"schema-valid request rejected: {errors}"
    return None


@schemathesis.check
def no_server_error_but_webhooks_on_sqlite(ctx, response, case):
    if response.status_code < 500:
        return None
    webhooks_on_sqlite = (
        response.status_code == 501
        and connection.vendor != "postgresql"
        and response.json()["errors"][0]["type"] == "WEBHOOKS_UNAVAILABLE"
    )
    assert webhooks_on_sqlite, f"server error {response.status_code}: {response.text[:300]}"
    return None


CHECKS = {
    "excluded_checks": [positive_data_acceptance, not_a_server_error],
    "additional_checks": [
        valid_data_accepted_unless_a_stateful_rule_says_no,
        no_server_error_but_webhooks_on_sqlite,
    ],
}


@pytest.fixture(autouse=True)
def _keep_the_test_transaction():
    """Schemathesis calls the WSGI application directly, so Django's end-of-request hook would
    close the test's connection and its transaction with it; Django's own test client unhooks
    close_old_connections the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(params=["api-key", "owner-jwt"])
def auth_headers(request, tenant):
    """Both credentials: a key acts for its organization; an owner's JWT may also manage keys."""
    CustomerFactory.create_batch(3, organization=tenant.organization)
    if request.param == "api-key":
        return {"Authorization": f"Bearer {tenant.key}"}
    return {
        "Authorization": f"Bearer {access_token(tenant.owner)}",
        "organization-id": str(tenant.organization.pk),
    }


@schema.parametrize()
@settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_honours_its_schema(case, auth_headers):
    case.call_and_validate(headers=auth_headers, **CHECKS)


def test_workflows_across_operations_keep_every_promise(auth_headers):
    """The stateful phase: chains such as create → read → edit → activate → delete, following
    the links Schemathesis infers between operations, checked after every step."""

    class Workflow(schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"headers": auth_headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(
                response, headers=auth_headers, transport_kwargs=kwargs, **CHECKS
            )

    Workflow.run(
        settings=settings(
            max_examples=25,
            stateful_step_count=6,
            derandomize=True,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )
