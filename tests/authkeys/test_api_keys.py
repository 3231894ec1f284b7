"""Contract section 7: API keys managed by a signed-in owner or admin."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from authkeys import crypto
from authkeys.models import ApiKey
from organizations.models import Membership
from tests.conftest import access_token
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

PUBLIC_FIELDS = {
    "id",
    "name",
    "prefix",
    "createdAt",
    "lastUsedAt",
    "expiresAt",
    "revokedAt",
    "createdBy",
    "token",
    "revoked",
    "responseCasing",
}


def signed_in(user, organization) -> APIClient:
    api = APIClient()
    api.credentials(
        HTTP_AUTHORIZATION=f"Bearer {access_token(user)}",
        HTTP_ORGANIZATION_ID=str(organization.pk),
    )
    return api


def person(tenant, role) -> APIClient:
    user = UserFactory()
    MembershipFactory(user=user, organization=tenant.organization, role=role)
    return signed_in(user, tenant.organization)


def assert_error(response, status_code, error_type):
    assert response.status_code == status_code, response.content
    [error] = response.json()["errors"]
    assert (error["statusCode"], error["type"]) == (status_code, error_type)


@pytest.mark.parametrize("path", ["/api/api-keys/generate", "/api/api-keys/generate/"])
def test_generate_returns_the_full_key_once_and_stores_only_its_digest(jwt_client, tenant, path):
    response = jwt_client.post(path, {"name": " CRM sync "}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == PUBLIC_FIELDS | {"key"}
    assert crypto.is_well_formed(body["key"])
    assert body["name"] == "CRM sync"
    assert body["prefix"] == body["key"][:11]
    assert body["createdBy"] == {"id": tenant.owner.pk, "email": tenant.owner.email}
    assert body["expiresAt"] is None
    assert body["revokedAt"] is None
    assert (body["token"], body["revoked"]) == (body["key"][:8] + "...", False)
    stored = ApiKey.objects.get(pk=body["id"])
    assert stored.organization == tenant.organization
    assert stored.digest == crypto.digest(body["key"])
    listed = jwt_client.get("/api/api-keys").json()
    assert body["key"] not in str(listed)


def test_generated_key_works_and_acts_for_its_organization(jwt_client, tenant):
    key = jwt_client.post("/api/api-keys/generate", {"name": "x"}, format="json").json()["key"]
    response = APIClient().get(
        f"/api/customers/{tenant.customer.pk}", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert response.status_code == 200


def test_generate_with_expiry_accepts_snake_case_too(jwt_client):
    expires = (timezone.now() + timedelta(days=30)).replace(microsecond=0)
    response = jwt_client.post(
        "/api/api-keys/generate",
        {"name": "temp", "expires_at": expires.isoformat()},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["expiresAt"] == expires.isoformat().replace("+00:00", "Z")
    assert ApiKey.objects.get(pk=response.json()["id"]).expires_at == expires


@pytest.mark.parametrize(
    ("body", "error_type", "field"),
    [
        ({"name": 5}, "VALIDATION_ERROR", "name"),
        ({"name": "x" * 256}, "VALIDATION_ERROR", "name"),
        ({"name": "x", "expiresAt": "2000-01-01T00:00:00Z"}, "VALIDATION_ERROR", "expiresAt"),
        ({"name": "x", "expiresAt": "soon"}, "VALIDATION_ERROR", "expiresAt"),
        ({"name": "x", "organization": 2}, "UNKNOWN_FIELD", "organization"),
        ({"name": "x", "digest": "0" * 64}, "UNKNOWN_FIELD", "digest"),
    ],
)
def test_generate_with_bad_input_is_400_and_creates_nothing(jwt_client, body, error_type, field):
    before = ApiKey.objects.count()
    response = jwt_client.post("/api/api-keys/generate", body, format="json")
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["type"], error["field"]) == (error_type, field)
    assert ApiKey.objects.count() == before


def test_generate_with_a_non_object_body_is_400(jwt_client):
    response = jwt_client.post("/api/api-keys/generate", [1], format="json")
    assert_error(response, 400, "VALIDATION_ERROR")


def test_generate_with_a_form_body_is_415(jwt_client):
    response = jwt_client.post("/api/api-keys/generate", {"name": "x"})
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")


@pytest.mark.parametrize("path", ["/api/api-keys", "/api/api-keys/"])
def test_list_shows_the_organizations_keys_without_secrets(jwt_client, tenant, other_tenant, path):
    issued = jwt_client.post("/api/api-keys/generate", {"name": "CRM"}, format="json").json()

    response = jwt_client.get(path)

    assert response.status_code == 200
    keys = response.json()
    assert [key["id"] for key in keys] == [
        issued["id"],
        ApiKey.objects.get(organization=tenant.organization, name="test").pk,
    ]
    assert all(set(key) == PUBLIC_FIELDS for key in keys)
    text = response.content.decode()
    for stored in ApiKey.objects.all():
        assert stored.digest not in text
    assert issued["key"] not in text
    assert str(other_tenant.api_key.prefix) not in text


def test_revoke_stops_the_key_and_is_idempotent(jwt_client, tenant, key_client):
    api_key = tenant.api_key
    assert key_client.get(f"/api/customers/{tenant.customer.pk}").status_code == 200

    response = jwt_client.put(f"/api/api-keys/{api_key.pk}/revoke")

    assert response.status_code == 200
    assert set(response.json()) == PUBLIC_FIELDS
    revoked_at = response.json()["revokedAt"]
    assert revoked_at is not None
    assert response.json()["revoked"] is True
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    assert key_client.get(f"/api/customers/{tenant.customer.pk}").status_code == 401
    again = jwt_client.put(f"/api/api-keys/{api_key.pk}/revoke/")
    assert again.status_code == 200
    assert again.json()["revokedAt"] == revoked_at


@pytest.mark.parametrize("key_id", ["other", "999999", "9223372036854775808"])
def test_revoke_another_organizations_or_a_missing_key_is_404(jwt_client, other_tenant, key_id):
    if key_id == "other":
        key_id = other_tenant.api_key.pk
    response = jwt_client.put(f"/api/api-keys/{key_id}/revoke")
    assert_error(response, 404, "API_KEY_NOT_FOUND")
    assert other_tenant.api_key.revoked_at is None


def test_revoke_with_a_non_numeric_id_is_404(jwt_client):
    assert_error(jwt_client.put("/api/api-keys/abc/revoke"), 404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/api-keys"),
        ("post", "/api/api-keys/generate"),
        ("put", "/api/api-keys/{id}/revoke"),
    ],
)
def test_an_api_key_cannot_manage_keys(key_client, tenant, method, path):
    response = getattr(key_client, method)(
        path.format(id=tenant.api_key.pk), {"name": "x"}, format="json"
    )
    assert_error(response, 403, "PERMISSION_DENIED")
    assert ApiKey.objects.filter(organization=tenant.organization).count() == 1
    assert tenant.api_key.revoked_at is None


@pytest.mark.parametrize(
    ("role", "allowed"),
    [(Membership.Role.OWNER, True), (Membership.Role.ADMIN, True), (Membership.Role.MEMBER, False)],
)
def test_only_owners_and_admins_manage_keys(tenant, role, allowed):
    api = person(tenant, role)
    api_key = tenant.api_key
    listed = api.get("/api/api-keys")
    generated = api.post("/api/api-keys/generate", {"name": "x"}, format="json")
    revoked = api.put(f"/api/api-keys/{api_key.pk}/revoke")
    api_key.refresh_from_db()
    if allowed:
        assert (listed.status_code, generated.status_code, revoked.status_code) == (200, 201, 200)
    else:
        for response in (listed, generated, revoked):
            assert_error(response, 403, "PERMISSION_DENIED")
        assert ApiKey.objects.filter(organization=tenant.organization).count() == 1
        assert api_key.revoked_at is None


def test_an_admin_of_another_organization_cannot_manage_this_ones_keys(tenant, other_tenant):
    api = signed_in(other_tenant.owner, tenant.organization)
    assert_error(api.get("/api/api-keys"), 403, "ORGANIZATION_ACCESS_DENIED")


def test_unauthenticated_is_401(client):
    response = client.get("/api/api-keys")
    assert_error(response, 401, "NOT_AUTHENTICATED")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_wrong_method_is_405(jwt_client):
    assert_error(jwt_client.delete("/api/api-keys"), 405, "METHOD_NOT_ALLOWED")
    assert_error(jwt_client.get("/api/api-keys/generate"), 405, "METHOD_NOT_ALLOWED")


def test_query_budgets(jwt_client, tenant, max_queries):
    api_key = tenant.api_key
    for _ in range(3):
        jwt_client.post("/api/api-keys/generate", {"name": "x"}, format="json")
    with max_queries(2):  # membership; keys with their creators
        assert jwt_client.get("/api/api-keys").status_code == 200
    with max_queries(2):  # membership; insert
        assert (
            jwt_client.post("/api/api-keys/generate", {"name": "y"}, format="json").status_code
            == 201
        )
    with max_queries(4):  # membership; the key; update; re-read revokedAt
        assert jwt_client.put(f"/api/api-keys/{api_key.pk}/revoke").status_code == 200


def test_generate_without_a_name_as_bigcapitals_clients_may(jwt_client, tenant):
    response = jwt_client.post("/api/api-keys/generate", {}, format="json")

    assert response.status_code == 201
    assert ApiKey.objects.get(pk=response.json()["id"]).name == ""
    assert crypto.is_well_formed(response.json()["key"])
