"""The tenant-isolation matrix: every /api/ operation, by credential, aimed at organization B.

The operations come from the OpenAPI schema, so a new route joins the matrix by itself; the only
hand-written part is EXPECTED, the answer each operation owes a caller of organization A, and
`test_every_operation_in_the_schema_has_a_matrix_entry` fails when a route has none. Bodies are
built from the schema's request components. Each case asserts the status, the envelope, that no
byte of B's data is in the body, and that B's customers, keys and history are unchanged.
tests/customers/test_tenant_isolation.py keeps the hand-written cases (history of the same id,
idempotency keys, list totals).
"""

import json
import re
from urllib.parse import quote

import pytest
from django.db import connection
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from authkeys.models import ApiKey
from common.actors import Actor, Door
from customers import services
from customers.importing import uploads
from customers.models import Customer, CustomerChange, ImportUpload
from organizations.models import Membership
from tests.conftest import access_token
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
OPERATIONS = sorted(
    (method.upper(), path)
    for path, item in SCHEMA["paths"].items()
    for method in item
    if method in {"get", "post", "put", "patch", "delete"}
)

# What organization A's own credentials (API key, owner's JWT) get when aimed at B's rows.
# 2xx only where the operation acts on A alone (list, create, A's keys): B stays out of the body.
NOT_FOUND = {"key": 404, "jwt": 404}
WEBHOOK_CREATED = 201 if connection.vendor == "postgresql" else 501
EXPECTED = {
    ("GET", "/api/customers"): {"key": 200, "jwt": 200},
    ("POST", "/api/customers"): {"key": 201, "jwt": 201},
    ("GET", "/api/customers/{id}"): NOT_FOUND,
    ("PUT", "/api/customers/{id}"): NOT_FOUND,
    ("PATCH", "/api/customers/{id}"): NOT_FOUND,
    ("DELETE", "/api/customers/{id}"): NOT_FOUND,
    ("GET", "/api/customers/{id}/history"): NOT_FOUND,
    ("GET", "/api/customers/{id}/duplicates"): NOT_FOUND,
    ("GET", "/api/customers/duplicates"): {"key": 200, "jwt": 200},
    ("POST", "/api/customers/{id}/merge"): NOT_FOUND,
    ("POST", "/api/customers/{id}/unmerge"): NOT_FOUND,
    ("PUT", "/api/customers/{id}/opening-balance"): NOT_FOUND,
    ("POST", "/api/customers/{id}/activate"): NOT_FOUND,
    ("PATCH", "/api/customers/{id}/activate"): NOT_FOUND,
    ("POST", "/api/customers/{id}/inactivate"): NOT_FOUND,
    ("PATCH", "/api/customers/{id}/inactivate"): NOT_FOUND,
    ("PATCH", "/api/contacts/{id}/activate"): NOT_FOUND,
    ("PATCH", "/api/contacts/{id}/inactivate"): NOT_FOUND,
    ("POST", "/api/customers/bulk-delete"): NOT_FOUND,
    ("POST", "/api/customers/validate-bulk-delete"): {"key": 200, "jwt": 200},
    ("GET", "/api/api-keys"): {"key": 403, "jwt": 200},
    ("POST", "/api/api-keys/generate"): {"key": 403, "jwt": 201},
    ("PUT", "/api/api-keys/{id}/revoke"): {"key": 403, "jwt": 404},
    ("PATCH", "/api/api-keys/{id}"): {"key": 403, "jwt": 404},
    ("GET", "/api/contacts/{id}"): NOT_FOUND,
    ("GET", "/api/contacts/auto-complete"): {"key": 200, "jwt": 200},
    ("GET", "/api/auth/account"): {"key": 200, "jwt": 200},
    # Descriptions of the customer resource: the same for every organization, no rows in them.
    ("GET", "/api/resources/{resourceModel}/meta"): {"key": 200, "jwt": 200},
    ("GET", "/api/views/resource/{resourceModel}"): {"key": 200, "jwt": 200},
    # Bulk files: an upload is A's own (this one, without a file, is refused); B's uploads are
    # missing at every step; the sample and the export hold A's data only.
    ("POST", "/api/import/file"): {"key": 400, "jwt": 400},
    ("GET", "/api/import/{import_id}"): NOT_FOUND,
    ("POST", "/api/import/{import_id}/mapping"): NOT_FOUND,
    ("GET", "/api/import/{import_id}/preview"): NOT_FOUND,
    ("POST", "/api/import/{import_id}/import"): NOT_FOUND,
    ("GET", "/api/import/sample"): {"key": 200, "jwt": 200},
    ("GET", "/api/export"): {"key": 200, "jwt": 200},
    # The change feed: A's events only.
    ("GET", "/api/events"): {"key": 200, "jwt": 200},
    # Webhooks: an owner's own (created here: 501 where the database is SQLite); B's missing.
    ("GET", "/api/webhooks"): {"key": 403, "jwt": 200},
    ("POST", "/api/webhooks"): {
        "key": 403,
        "jwt": 201 if connection.vendor == "postgresql" else 501,
    },
    ("GET", "/api/webhooks/{id}"): {"key": 403, "jwt": 404},
    ("PUT", "/api/webhooks/{id}"): {"key": 403, "jwt": 404},
    ("DELETE", "/api/webhooks/{id}"): {"key": 403, "jwt": 404},
    ("POST", "/api/webhooks/{id}/toggle"): {"key": 403, "jwt": 404},
    ("GET", "/api/webhooks/{id}/deliveries"): {"key": 403, "jwt": 404},
    ("POST", "/api/webhooks/{id}/deliveries/{delivery_id}/redeliver"): {"key": 403, "jwt": 404},
    # Public: no organization in play; B's owner's e-mail with a wrong password, foreign tokens.
    ("POST", "/api/auth/token"): {"key": 401, "jwt": 401},
    ("POST", "/api/auth/signin"): {"key": 401, "jwt": 401},
    ("GET", "/api/auth/meta"): {"key": 200, "jwt": 200},
    ("POST", "/api/auth/token/refresh"): {"key": 401, "jwt": 401},
    ("POST", "/api/auth/logout"): {"key": 401, "jwt": 401},
}
CREDENTIALS = ["key", "jwt", "jwt-foreign-org", "key-foreign-org"]


def is_public(method, path) -> bool:
    return SCHEMA["paths"][path][method.lower()].get("security") == [{}]


def resolve(ref: str) -> dict:
    return SCHEMA["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def _first(schema: dict) -> dict:
    """The first choice of an allOf or oneOf (a text field that also takes "" or null)."""
    for key in ("allOf", "oneOf"):
        if key in schema:
            return schema[key][0]
    return schema


def example(schema: dict, theirs):
    """A valid value for `schema`, aiming every integer (ids) at B's customer."""
    if "$ref" in schema:
        return example(resolve(schema["$ref"]), theirs)
    if "allOf" in schema or "oneOf" in schema:
        return example(_first(schema), theirs)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        # A partial update has no required field: it gets its first plain text field.
        names = schema.get("required") or [
            next(
                n
                for n, p in schema["properties"].items()
                if set(_first(p)) >= {"type", "maxLength"}
            )
        ]
        return {name: example(schema["properties"][name], theirs) for name in names}
    if kind == "array":
        return [example(schema["items"], theirs)]
    if kind == "integer":
        return theirs.customer.pk
    if kind == "number":
        return 1
    if kind == "boolean":
        return False
    if schema.get("format") in {"date", "date-time"}:
        return "2024-01-01"
    if schema.get("format") == "email" or "email" in str(schema.get("description", "")):
        return theirs.owner.email
    return "Probe"


def request_body(method, path, theirs):
    content = SCHEMA["paths"][path][method.lower()].get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    if schema is None:
        return None
    body = example(schema, theirs)
    if path in ("/api/webhooks", "/api/webhooks/{id}"):
        body = {"name": "Ours", "url": "https://93.184.215.14/hooks", "events": ["*"]}
    if path in ("/api/auth/token", "/api/auth/signin"):
        body = {"email": theirs.owner.email, "password": "not their password"}
    return body


def snapshot(organization):
    return (
        list(Customer.objects.filter(organization=organization).values().order_by("id")),
        list(ApiKey.objects.filter(organization=organization).values().order_by("id")),
        list(CustomerChange.objects.filter(organization=organization).values().order_by("id")),
        list(ImportUpload.objects.filter(organization=organization).values().order_by("id")),
        list(WebhookEndpoint.objects.filter(organization=organization).values().order_by("id")),
        list(WebhookDelivery.objects.filter(organization=organization).values().order_by("id")),
    )


def their_upload(theirs) -> ImportUpload:
    """B's file, mapped and ready to import."""
    upload = uploads.store(
        organization=theirs.organization,
        chunks=[f"Type,Name,Currency\nbusiness,{theirs.customer.display_name},USD\n".encode()],
        filename="theirs.csv",
        fmt="csv",
        params={},
    )
    uploads.set_mapping(
        upload,
        [
            {"from": "Type", "to": "customerType"},
            {"from": "Name", "to": "displayName"},
            {"from": "Currency", "to": "currencyCode"},
        ],
    )
    return upload


def client_for(credential, tenant, theirs) -> APIClient:
    api = APIClient()
    token = tenant.key if credential.startswith("key") else access_token(tenant.owner)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if credential == "jwt":
        headers["HTTP_ORGANIZATION_ID"] = str(tenant.organization.pk)
    elif credential.endswith("foreign-org"):
        headers["HTTP_ORGANIZATION_ID"] = str(theirs.organization.pk)
    api.credentials(**headers)
    return api


def target_path(path, theirs) -> str:
    path = path.replace("{resourceModel}", "Customer")
    if "{import_id}" in path:
        return path.replace("{import_id}", their_upload(theirs).import_id)
    if path == "/api/import/sample":
        return path + "?resource=customers&format=csv"
    if path == "/api/export":
        return path + "?resource=customers"
    if path == "/api/events":  # B has an event of its own, with its customer in it
        services.customer_update(
            organization=theirs.organization,
            customer_id=theirs.customer.pk,
            changes={"note": "theirs"},
            actor=Actor(door=Door.COMMAND),
        )
        return path
    if path.startswith("/api/webhooks/"):
        webhook, delivery = their_webhook(theirs)
        path = path.replace("{delivery_id}", str(delivery.pk))
        return path.replace("{id}", str(webhook.pk))
    if "{id}" not in path:
        return path
    target = theirs.api_key.pk if path.startswith("/api/api-keys/") else theirs.customer.pk
    return path.replace("{id}", str(target))


def their_webhook(theirs) -> tuple[WebhookEndpoint, WebhookDelivery]:
    """B's webhook with one delivery (made as rows: the service refuses on SQLite)."""
    webhook = WebhookEndpoint.objects.create(
        organization=theirs.organization,
        name="Their CRM",
        url="https://93.184.215.14/theirs",
        events=["*"],
        secret="whsec_theirs" + "x" * 32,
    )
    services.customer_update(
        organization=theirs.organization,
        customer_id=theirs.customer.pk,
        changes={"note": "theirs"},
        actor=Actor(door=Door.COMMAND),
    )
    delivery = WebhookDelivery.objects.create(
        organization=theirs.organization,
        endpoint=webhook,
        event=CustomerChange.objects.filter(organization=theirs.organization).last(),
        event_type="customer.edited",
        customer_id=theirs.customer.pk,
    )
    return webhook, delivery


def their_secrets(theirs) -> list[str]:
    secrets = [theirs.customer.display_name, theirs.owner.email, theirs.api_key.prefix]
    return secrets + list(
        WebhookEndpoint.objects.filter(organization=theirs.organization).values_list(
            "secret", flat=True
        )
    )


def test_every_operation_in_the_schema_has_a_matrix_entry():
    assert set(OPERATIONS) == set(EXPECTED)


@pytest.mark.parametrize("credential", CREDENTIALS)
@pytest.mark.parametrize(
    ("method", "path"),
    [pytest.param(*operation, id=" ".join(operation)) for operation in OPERATIONS],
)
def test_organization_a_never_reaches_organization_b(
    tenant, other_tenant, credential, method, path
):
    theirs = other_tenant
    assert not Membership.objects.filter(user=tenant.owner, organization=theirs.organization)
    expected = EXPECTED[(method, path)][credential.split("-")[0]]
    if credential.endswith("foreign-org") and not is_public(method, path):
        expected = 403
    body = request_body(method, path, theirs)
    url = target_path(path, theirs)
    keyword = theirs.customer.display_name
    if method == "GET" and path == "/api/customers":
        url += f"?searchKeyword={quote(keyword)}&pageSize=500"
    if method == "GET" and path == "/api/contacts/auto-complete":
        url += f"?keyword={quote(keyword)}&limit=100"
    before = snapshot(theirs.organization)

    response = client_for(credential, tenant, theirs).generic(
        method,
        url,
        b"" if body is None else json.dumps(body).encode(),
        content_type="application/json",
    )

    if response.streaming:  # a file: the sample, the export
        assert response.status_code == expected
        text = b"".join(response.streaming_content).decode()
        assert text.startswith("customerType,displayName")
        for secret in their_secrets(theirs):
            assert secret not in text
        assert snapshot(theirs.organization) == before
        return
    assert response.status_code == expected, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    text = response.content.decode().replace('"searchKeyword":"' + keyword, "")
    for secret in their_secrets(theirs):
        assert secret not in text
    if response.status_code >= 400:
        [error, *_] = response.json()["errors"]
        assert error["statusCode"] == expected
    if expected == 404:
        assert re.search(r"NOT_FOUND", text)
    if expected == 200 and path == "/api/customers/validate-bulk-delete":
        # Answered like an id of no customer at all.
        assert response.json()["nonDeletableIds"] == [theirs.customer.pk]
    if expected == 200 and path == "/api/customers":
        assert response.json()["pagination"]["total"] == 0
    if expected == 200 and path == "/api/contacts/auto-complete":
        assert response.json() == []
    if expected == 200 and path == "/api/events":
        assert response.json()["events"] == []
    assert snapshot(theirs.organization) == before
