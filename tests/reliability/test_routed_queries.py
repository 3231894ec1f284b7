"""Every statement a tenant route sends to a tenant table names the organization.

On a Citus cluster the tenant tables are sharded by `organization_id` (issue: the customer book
sharded across a cluster): a statement whose WHERE names the organization goes to one shard, and
one that does not goes to every shard. Plain PostgreSQL and SQLite answer both alike, so this
test reads the SQL itself, on any database: every route of the OpenAPI document, called as
organization A on A's own rows, plus the import flow and the back office's customer pages.

A statement passes if it inserts rows (each row carries its organization), or if the text after
its first WHERE names `organization_id` (or the organization's id column of a join). Statements
on other tables (organizations, users, API keys: small tables every node holds) are not checked.
"""

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cluster import citus
from customers.models import Customer
from tests.admin.conftest import make_staff
from tests.admin.forms import change_form_data
from tests.reliability.test_tenant_matrix import OPERATIONS, SCHEMA, example

pytestmark = pytest.mark.django_db

# The tables a Citus cluster shards by organization (cluster/citus.py).
TENANT_TABLES = tuple(citus.tables(citus.DISTRIBUTED))
_TABLE = re.compile(r'\b"?(' + "|".join(TENANT_TABLES) + r')"?\b')
_CONTROL = re.compile(r"^\s*(SAVEPOINT|RELEASE|ROLLBACK|BEGIN|COMMIT)\b", re.IGNORECASE)


def unrouted(statements: list[str]) -> list[str]:
    """The statements on a tenant table whose WHERE does not name the organization."""
    found = []
    for sql in statements:
        if _CONTROL.match(sql) or not _TABLE.search(sql):
            continue
        if re.match(r"^\s*INSERT\b", sql, re.IGNORECASE) and not re.search(
            r"\bON CONFLICT\b.*\bWHERE\b", sql, re.IGNORECASE | re.DOTALL
        ):
            continue  # every row inserted carries its organization_id
        after_where = re.split(r"\bWHERE\b", sql, maxsplit=1, flags=re.IGNORECASE)[1:]
        if not after_where or "organization_id" not in after_where[0]:
            found.append(sql)
    return found


def captured(call) -> list[str]:
    with CaptureQueriesContext(connection) as context:
        response = call()
    assert response.status_code < 500, response.content[:300]
    return [query["sql"] for query in context.captured_queries]


def test_unrouted_sees_what_it_should():
    assert unrouted(['SELECT "a" FROM "customers_customer" WHERE "customers_customer"."id" = 1'])
    assert unrouted(['DELETE FROM "customers_customer" WHERE "customers_customer"."id" IN (1)'])
    assert not unrouted(
        ['SELECT 1 FROM "customers_customer" WHERE ("organization_id" = 1 AND "id" = 2)']
    )
    assert not unrouted(['INSERT INTO "customers_customer" ("organization_id") VALUES (1)'])
    assert not unrouted(['SELECT 1 FROM "authkeys_apikey" WHERE "digest" = %s'])


def target(path: str, tenant) -> str:
    path = path.replace("{resourceModel}", "Customer").replace("{id}", str(tenant.customer.pk))
    if "{import_id}" in path:
        return path.replace("{import_id}", "unknown")
    if path in ("/api/import/sample", "/api/export"):
        return path + "?resource=customers"
    return path


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param(*operation, id=" ".join(operation))
        for operation in OPERATIONS
        if not operation[1].startswith(("/api/auth/", "/api/api-keys"))
    ],
)
def test_each_tenant_route_names_the_organization_in_every_statement(
    tenant, key_client, method, path
):
    content = SCHEMA["paths"][path][method.lower()].get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    body = None if schema is None else example(schema, tenant)
    url = target(path, tenant)
    key_client.get("/api/customers")  # the key's lastUsedAt is written once a minute: warm it up

    statements = captured(
        lambda: key_client.generic(
            method,
            url,
            b"" if body is None else json.dumps(body).encode(),
            content_type="application/json",
        )
    )

    assert unrouted(statements) == []


@pytest.mark.postgres_only  # SQLite's import updates through bulk_update, by id; no shards there
def test_the_import_flow_names_the_organization_in_every_statement(tenant, key_client):
    body = b"Type,Name,Code,Currency\nbusiness,Routed,R-1,USD\nbusiness,Updated,CODE,USD\n"
    Customer.objects.filter(pk=tenant.customer.pk).update(code="CODE")
    statements = []
    for mode in ("create", "upsert"):
        form = {
            "file": SimpleUploadedFile("routed.csv", body, "text/csv"),
            "resource": "customers",
            "params": json.dumps({"mode": mode, "skipInvalid": True}),
        }
        upload = key_client.post("/api/import/file", form, format="multipart").json()
        import_id = upload["import"]["importId"]
        mapping = {
            "mapping": [
                {"from": "Type", "to": "customerType"},
                {"from": "Name", "to": "displayName"},
                {"from": "Code", "to": "code"},
                {"from": "Currency", "to": "currencyCode"},
            ]
        }
        statements += captured(
            lambda import_id=import_id, mapping=mapping: key_client.post(
                f"/api/import/{import_id}/mapping", mapping, format="json"
            )
        )
        statements += captured(
            lambda import_id=import_id: key_client.get(f"/api/import/{import_id}/preview")
        )
        statements += captured(
            lambda import_id=import_id: key_client.post(f"/api/import/{import_id}/import")
        )

    assert unrouted(statements) == []


def test_the_back_offices_customer_pages_name_the_organization(tenant):
    browser = Client()
    browser.force_login(make_staff(tenant.owner))
    customer = tenant.customer
    change = reverse("admin:customers_customer_change", args=[customer.pk])

    statements = captured(lambda: browser.get(reverse("admin:customers_customer_changelist")))
    statements += captured(lambda: browser.get(change))
    statements += captured(lambda: browser.post(change, change_form_data(customer, note="routed")))

    assert unrouted(statements) == []
