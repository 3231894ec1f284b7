"""Bigcapital's resource meta and views for the customer list."""

import json
from urllib.parse import quote

import pytest

from customers.filter_roles import FILTERABLE

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["Customer/meta", "customers/meta", "customer/meta/"])
def test_meta_lists_the_fields_the_list_filters_on(tenant, key_client, path):
    response = key_client.get(f"/api/resources/{path}")

    assert response.status_code == 200
    meta = response.json()
    assert meta["defaultSort"] == {"sortOrder": "DESC", "sortField": "created_at"}
    assert meta["fields"]["display_name"]["fieldType"] == "text"
    assert meta["fields"]["balance"]["fieldType"] == "number"
    assert meta["fields"]["created_at"]["fieldType"] == "date"
    assert [o["key"] for o in meta["fields"]["status"]["options"]] == [
        "unpaid",
        "active",
        "inactive",
    ]
    assert set(meta["fields"]) <= set(FILTERABLE)
    assert (meta["importable"], meta["exportable"]) == (True, True)


def test_every_field_of_the_meta_is_accepted_by_the_list(tenant, key_client):
    meta = key_client.get("/api/resources/Customer/meta").json()
    samples = {"text": "a", "number": "1", "boolean": "true", "date": "2024-01-01"}
    comparators = {"text": "contains", "number": "equals", "boolean": "equals", "date": "in"}

    for key, field in meta["fields"].items():
        kind = field["fieldType"]
        value = field["options"][0]["key"] if "options" in field else samples[kind]
        roles = [{"fieldKey": key, "comparator": comparators.get(kind, "equals"), "value": value}]
        response = key_client.get(
            f"/api/customers?stringifiedFilterRoles={quote(json.dumps(roles))}"
        )
        assert response.status_code == 200, (key, response.json())


def test_views_are_the_list_views(tenant, key_client):
    response = key_client.get("/api/views/resource/customers")

    assert response.status_code == 200
    views = response.json()
    assert [view["slug"] for view in views] == ["active", "inactive", "unpaid"]
    assert all(view["predefined"] and view["resourceModel"] == "Customer" for view in views)
    for view in views:
        assert key_client.get(f"/api/customers?viewSlug={view['slug']}").status_code == 200


@pytest.mark.parametrize("path", ["/api/resources/SaleInvoice/meta", "/api/views/resource/Item"])
def test_other_resources_are_404(tenant, key_client, path):
    response = key_client.get(path)

    assert response.status_code == 404
    assert response.json()["errors"][0]["type"] == "NOT_FOUND"


def test_they_need_a_credential(client):
    assert client.get("/api/resources/Customer/meta").status_code == 401
    assert client.get("/api/views/resource/customers").status_code == 401
