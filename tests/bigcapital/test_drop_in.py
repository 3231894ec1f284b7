"""A Bigcapital client, unchanged, against Counterpart: the whole customer flow with the request
bodies of Bigcapital's published document (dtos.json, extracted by extract.py), once with a `bc_`
API key and once signed in with an email and a password as Bigcapital's clients sign in."""

import csv
import io
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from customers.models import Customer, CustomerChange
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

DTOS = json.loads(Path(__file__).with_name("dtos.json").read_text())


def body_of(dto: str, **given) -> dict:
    """A body as a client generated from the document sends it: every property, each with the
    document's example, or a plain value of its type where the document gives none."""
    body = {}
    for name, schema in DTOS[dto]["properties"].items():
        if "example" in schema:
            body[name] = schema["example"]
        elif name == "email" or name.endswith("Email"):
            body[name] = f"{name.lower()}@acmecorp.com"
        elif schema.get("type") == "string":
            body[name] = f"{name} of Acme"
        elif schema.get("type") == "boolean":
            body[name] = True
    return {**body, **given}


def bigcapital_client(tenant, credential: str) -> APIClient:
    api = APIClient()
    if credential == "api key":
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {tenant.key}")
        return api
    signed_in = api.post(
        "/api/auth/signin",
        body_of("AuthSigninDto", email=tenant.owner.email, password=PASSWORD),
        format="json",
    )
    assert signed_in.status_code == 200, signed_in.content
    answer = signed_in.json()
    api.credentials(
        HTTP_AUTHORIZATION=f"Bearer {answer['access_token']}",
        HTTP_ORGANIZATION_ID=answer["organization_id"],
    )
    return api


@pytest.mark.parametrize("credential", ["api key", "email and password"])
def test_the_whole_customer_flow_with_bigcapitals_bodies(tenant, other_tenant, credential):
    api = bigcapital_client(tenant, credential)
    branch = tenant.branch.pk  # the one value a client must learn from the organization

    created = api.post(
        "/api/customers",
        body_of("CreateCustomerDto", openingBalanceBranchId=branch),
        format="json",
    )
    assert created.status_code == 201, created.content
    customer = created.json()
    assert (customer["displayName"], customer["code"]) == ("Acme Corporation", "CUST-001")
    assert (customer["openingBalance"], customer["balance"]) == (5000, 5000)
    assert customer["openingBalanceAt"] == "2024-01-01T00:00:00Z"
    customer_id = customer["id"]

    read = api.get(f"/api/customers/{customer_id}")
    assert read.json() == customer
    listed = api.get(
        "/api/customers",
        {"columnSortBy": "display_name", "sortOrder": "asc", "searchKeyword": "cust-001"},
    )
    assert listed.status_code == 200, listed.content
    assert [c["id"] for c in listed.json()["customers"]] == [customer_id]

    edited = api.put(
        f"/api/customers/{customer_id}",
        body_of("EditCustomerDto", customerType="individual", displayName="John Smith"),
        format="json",
    )
    assert edited.status_code == 200, edited.content
    assert (edited.json()["displayName"], edited.json()["customerType"]) == (
        "John Smith",
        "individual",
    )

    balance = api.put(
        f"/api/customers/{customer_id}/opening-balance",
        body_of(
            "CustomerOpeningBalanceEditDto", openingBalance=7500, openingBalanceBranchId=branch
        ),
        format="json",
    )
    assert balance.status_code == 200, balance.content
    assert (balance.json()["openingBalance"], balance.json()["balance"]) == (7500, 7500)

    contact = api.get(f"/api/contacts/{customer_id}")
    assert contact.json()["customer"]["displayName"] == "John Smith"
    completed = api.get("/api/contacts/auto-complete", {"keyword": "john smith"})
    assert [c["id"] for c in completed.json()] == [customer_id]
    assert api.patch(f"/api/contacts/{customer_id}/inactivate").status_code == 200
    assert api.patch(f"/api/contacts/{customer_id}/activate").status_code == 200

    bulk = body_of("BulkDeleteCustomersDto", ids=[customer_id, other_tenant.customer.pk])
    checked = api.post("/api/customers/validate-bulk-delete", bulk, format="json")
    assert checked.status_code == 200, checked.content
    assert checked.json()["deletableIds"] == [customer_id]
    assert checked.json()["nonDeletableIds"] == [other_tenant.customer.pk]
    deleted = api.post(
        "/api/customers/bulk-delete",
        body_of("BulkDeleteCustomersDto", ids=[customer_id], skipUndeletable=False),
        format="json",
    )
    assert deleted.status_code == 200, deleted.content

    assert api.get(f"/api/customers/{customer_id}").status_code == 404
    assert not Customer.objects.filter(pk=customer_id).exists()
    assert Customer.objects.filter(pk=other_tenant.customer.pk).exists()
    actions = list(
        CustomerChange.objects.filter(customer_id=customer_id)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions[0] == "create"
    assert actions[-1] == "delete"
    assert len(actions) == 6  # create, edit, opening balance, inactivate, activate, delete


@pytest.mark.parametrize("credential", ["api key", "email and password"])
def test_another_organizations_customer_is_missing_on_every_route(tenant, other_tenant, credential):
    api = bigcapital_client(tenant, credential)
    theirs, name = other_tenant.customer.pk, other_tenant.customer.display_name

    answers = [
        api.get(f"/api/customers/{theirs}"),
        api.put(
            f"/api/customers/{theirs}",
            body_of("EditCustomerDto", customerType="business", displayName="Mine"),
            format="json",
        ),
        api.put(
            f"/api/customers/{theirs}/opening-balance",
            {"openingBalance": 1},
            format="json",
        ),
        api.get(f"/api/contacts/{theirs}"),
        api.patch(f"/api/contacts/{theirs}/inactivate"),
        api.delete(f"/api/customers/{theirs}"),
    ]

    assert [answer.status_code for answer in answers] == [404] * len(answers)
    other_tenant.customer.refresh_from_db()
    assert (other_tenant.customer.display_name, other_tenant.customer.version) == (name, 1)
    assert other_tenant.customer.active


@pytest.mark.parametrize("credential", ["api key", "email and password"])
def test_bulk_files_as_bigcapitals_web_client_sends_them(tenant, credential):
    """The import wizard's requests (packages/webapp/src/containers/Import): the sample, the
    upload as FormData with `params` JSON-encoded, a mapping with an empty `group` for each
    field it matched, preview, import; then the export."""
    api = bigcapital_client(tenant, credential)

    sample = api.get("/api/import/sample", {"resource": "customers", "format": "csv"})
    assert sample.status_code == 200
    form = {
        "file": SimpleUploadedFile("customers.csv", b"".join(sample.streaming_content), "text/csv"),
        "resource": "customers",
        "params": json.dumps({}),
    }
    uploaded = api.post("/api/import/file", form, format="multipart")
    assert uploaded.status_code == 200, uploaded.content
    import_id = uploaded.json()["import"]["importId"]
    keys = {column["key"] for column in uploaded.json()["resourceColumns"]}
    mapping = [
        {"from": column, "to": column, "group": ""}
        for column in uploaded.json()["sheetColumns"]
        if column in keys
    ]
    mapped = api.post(f"/api/import/{import_id}/mapping", {"mapping": mapping}, format="json")
    assert mapped.json() == {"import": {"importId": import_id, "resource": "Customer"}}

    preview = api.get(f"/api/import/{import_id}/preview").json()
    assert (preview["createdCount"], preview["errorsCount"]) == (2, 0)
    imported = api.post(f"/api/import/{import_id}/import").json()
    assert (imported["createdCount"], imported["totalCount"], imported["imported"]) == (2, 2, True)
    assert api.get(f"/api/import/{import_id}").json()["map"] == [
        {"from": entry["from"], "to": entry["to"]} for entry in mapping
    ]

    exported = api.get("/api/export", {"resource": "customers"}, HTTP_ACCEPT="text/csv")
    assert exported["Content-Type"] == "text/csv"
    names = {
        row["displayName"]
        for row in csv.DictReader(io.StringIO(b"".join(exported.streaming_content).decode()))
    }
    assert names == {tenant.customer.display_name, "Acme Trading Ltd", "Jane Doe"}
