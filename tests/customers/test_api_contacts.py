"""Bigcapital's contact reads: GET /api/contacts/{id} and GET /api/contacts/auto-complete."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.api.serializers import customer_data

from ..factories import CustomerFactory

pytestmark = pytest.mark.django_db


def assert_error(response, status_code, error_type):
    assert response.status_code == status_code, response.content
    assert [e["type"] for e in response.json()["errors"]] == [error_type]


@pytest.mark.parametrize("suffix", ["", "/"])
def test_a_contact_is_the_customer_under_the_customer_key(tenant, key_client, suffix):
    customer = tenant.customer

    response = key_client.get(f"/api/contacts/{customer.pk}{suffix}")

    assert response.status_code == 200
    assert response.json() == {
        "customer": {
            **customer_data(customer),
            "contactService": "customer",
            "contactType": customer.customer_type,
        }
    }


@pytest.mark.parametrize("contact_id", ["another", "987654321", "abc", "1" * 25])
def test_another_organizations_or_a_missing_contact_is_404(
    tenant, other_tenant, key_client, contact_id
):
    contact_id = str(other_tenant.customer.pk) if contact_id == "another" else contact_id

    assert_error(key_client.get(f"/api/contacts/{contact_id}"), 404, "CUSTOMER_NOT_FOUND")


def test_auto_complete_matches_a_fragment_any_case_sorted_by_name(tenant, other_tenant, key_client):
    organization = tenant.organization
    zeta = CustomerFactory(organization=organization, display_name="Zeta Widgets")
    acme = CustomerFactory(organization=organization, display_name="Acme", email="ops@widget.io")
    CustomerFactory(organization=organization, display_name="Unrelated")
    CustomerFactory(organization=other_tenant.organization, display_name="Widget Rival")

    response = key_client.get("/api/contacts/auto-complete?keyword=WIDGET")

    assert response.status_code == 200
    assert [contact["id"] for contact in response.json()] == [acme.pk, zeta.pk]
    assert response.json()[0]["contactService"] == "customer"


def test_auto_complete_without_a_keyword_lists_the_first_by_name_up_to_the_limit(
    tenant, key_client
):
    CustomerFactory.create_batch(12, organization=tenant.organization)
    names = sorted(tenant.organization.customers.values_list("display_name", "id"))

    default = key_client.get("/api/contacts/auto-complete").json()
    three = key_client.get("/api/contacts/auto-complete?limit=3").json()

    assert [(c["displayName"], c["id"]) for c in default] == names[:10]
    assert [(c["displayName"], c["id"]) for c in three] == names[:3]


def test_auto_complete_queries_do_not_grow_with_the_limit(tenant, key_client):
    CustomerFactory.create_batch(20, organization=tenant.organization)
    key_client.get("/api/contacts/auto-complete?limit=2")  # warm: notes lastUsedAt

    with CaptureQueriesContext(connection) as few:
        key_client.get("/api/contacts/auto-complete?limit=2&keyword=a")
    with CaptureQueriesContext(connection) as many:
        key_client.get("/api/contacts/auto-complete?limit=20&keyword=a")

    assert len(many) == len(few)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("keyword=" + "x" * 256, "keyword"),
        ("keyword=a%00b", "keyword"),
        ("colour=red", "colour"),
    ],
)
def test_auto_complete_with_a_bad_parameter_is_400(tenant, key_client, query, field):
    response = key_client.get(f"/api/contacts/auto-complete?{query}")

    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == [field]


def test_contacts_need_a_credential(client, tenant):
    assert_error(client.get(f"/api/contacts/{tenant.customer.pk}"), 401, "NOT_AUTHENTICATED")
    assert_error(client.get("/api/contacts/auto-complete"), 401, "NOT_AUTHENTICATED")
