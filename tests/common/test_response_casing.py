"""snake_case answers, per API key or per organization, for clients of Bigcapital's live server."""

import pytest

from authkeys.models import ApiKey
from organizations.models import ResponseCasing

pytestmark = pytest.mark.django_db


def set_key_casing(tenant, casing: str) -> None:
    ApiKey.objects.filter(pk=tenant.api_key.pk).update(response_casing=casing)


def test_answers_are_camel_case_by_default(tenant, key_client):
    body = key_client.get(f"/api/customers/{tenant.customer.pk}").json()

    assert "displayName" in body
    assert "billingAddress1" in body


def test_a_snake_case_key_gets_every_key_of_the_answer_in_snake_case(tenant, key_client):
    set_key_casing(tenant, ResponseCasing.SNAKE)

    customer = key_client.get(f"/api/customers/{tenant.customer.pk}").json()
    listed = key_client.get("/api/customers?pageSize=5").json()

    assert customer["display_name"] == tenant.customer.display_name
    assert "billing_address_1" in customer
    assert "displayName" not in customer
    assert set(listed) == {"customers", "pagination", "filter_meta"}
    assert "page_size" in listed["pagination"]
    assert listed["customers"][0]["currency_code"] == tenant.customer.currency_code


def test_snake_case_input_and_output_round_trip(tenant, key_client):
    set_key_casing(tenant, ResponseCasing.SNAKE)

    response = key_client.put(
        f"/api/customers/{tenant.customer.pk}",
        {"display_name": "Renamed", "customer_type": "business", "billing_address_1": "1 Main"},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert (response.json()["display_name"], response.json()["billing_address_1"]) == (
        "Renamed",
        "1 Main",
    )


def test_errors_keep_the_contracts_envelope(tenant, key_client):
    set_key_casing(tenant, ResponseCasing.SNAKE)

    response = key_client.get("/api/customers/987654321")

    assert response.status_code == 404
    assert response.json()["errors"][0]["statusCode"] == 404


def test_the_organizations_setting_applies_to_its_jwts_and_keys_that_do_not_choose(
    tenant, key_client, jwt_client, other_tenant
):
    tenant.organization.response_casing = ResponseCasing.SNAKE
    tenant.organization.save()

    by_jwt = jwt_client.get(f"/api/customers/{tenant.customer.pk}").json()
    by_key = key_client.get(f"/api/customers/{tenant.customer.pk}").json()

    assert "display_name" in by_jwt
    assert "display_name" in by_key
    set_key_casing(tenant, ResponseCasing.CAMEL)
    assert "displayName" in key_client.get(f"/api/customers/{tenant.customer.pk}").json()


def test_an_owner_chooses_a_keys_casing_through_the_key_endpoints(tenant, jwt_client):
    issued = jwt_client.post(
        "/api/api-keys/generate", {"name": "legacy", "responseCasing": "snake"}, format="json"
    ).json()
    assert issued["responseCasing"] == "snake"
    assert ApiKey.objects.get(pk=issued["id"]).response_casing == "snake"

    changed = jwt_client.patch(
        f"/api/api-keys/{issued['id']}", {"responseCasing": None}, format="json"
    )

    assert changed.status_code == 200
    assert changed.json()["responseCasing"] is None
    assert ApiKey.objects.get(pk=issued["id"]).response_casing == ""


@pytest.mark.parametrize(
    "body", [{"responseCasing": "kebab"}, {"digest": "0" * 64}, {"responseCasing": 1}]
)
def test_a_bad_key_change_is_400_and_changes_nothing(tenant, jwt_client, body):
    response = jwt_client.patch(f"/api/api-keys/{tenant.api_key.pk}", body, format="json")

    assert response.status_code == 400
    assert ApiKey.objects.get(pk=tenant.api_key.pk).response_casing == ""


def test_another_organizations_key_cannot_be_changed(tenant, jwt_client, other_tenant):
    response = jwt_client.patch(
        f"/api/api-keys/{other_tenant.api_key.pk}", {"name": "mine"}, format="json"
    )

    assert response.status_code == 404
    assert ApiKey.objects.get(pk=other_tenant.api_key.pk).name == other_tenant.api_key.name


def test_an_api_key_cannot_change_keys(tenant, key_client):
    response = key_client.patch(
        f"/api/api-keys/{tenant.api_key.pk}", {"responseCasing": "snake"}, format="json"
    )

    assert response.status_code == 403
    assert ApiKey.objects.get(pk=tenant.api_key.pk).response_casing == ""
