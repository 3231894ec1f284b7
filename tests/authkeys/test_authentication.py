"""Contract section 2: every way a credential can be wrong gets its JSON 401/403, never a 500."""

from datetime import timedelta
from unittest import mock

import jwt
import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from authkeys import crypto
from authkeys.models import ApiKey
from organizations.models import Membership
from tests.conftest import access_token
from tests.factories import MembershipFactory, UserFactory, issue_key

pytestmark = pytest.mark.django_db

WWW_AUTHENTICATE = 'Bearer realm="api"'


def customer_url(tenant) -> str:
    return f"/api/customers/{tenant.customer.pk}"


def get(client, tenant, authorization=None, organization_id=None):
    headers = {}
    if authorization is not None:
        headers["HTTP_AUTHORIZATION"] = authorization
    if organization_id is not None:
        headers["HTTP_ORGANIZATION_ID"] = organization_id
    return client.get(customer_url(tenant), **headers)


def assert_error(response, status_code, error_type):
    assert response.status_code == status_code, response.content
    assert response["Content-Type"] == "application/json"
    [error] = response.json()["errors"]
    assert (error["statusCode"], error["type"]) == (status_code, error_type)
    if status_code == 401:
        assert response["WWW-Authenticate"] == WWW_AUTHENTICATE
    else:
        assert "WWW-Authenticate" not in response
    return error


def test_missing_authorization_header_is_401_not_authenticated(client, tenant):
    assert_error(get(client, tenant), 401, "NOT_AUTHENTICATED")


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param("Basic dXNlcjpwYXNz", id="basic-scheme"),
        pytest.param("Token {key}", id="token-scheme"),
        pytest.param("{key}", id="no-scheme"),
        pytest.param("Bearer", id="bearer-without-token"),
        pytest.param("Bearer ", id="bearer-with-empty-token"),
        pytest.param("Bearer {key} extra", id="two-tokens"),
        pytest.param("Bearer bc_" + "a" * 95, id="key-one-character-short"),
        pytest.param("Bearer bc_" + "a" * 97, id="key-one-character-long"),
        pytest.param("Bearer bc_" + "A" * 96, id="key-uppercase-hex"),
        pytest.param("Bearer bc_" + "g" * 96, id="key-not-hex"),
        pytest.param("Bearer bc_", id="key-prefix-only"),
        pytest.param("Bearer bc_" + "0" * 96, id="unknown-key"),
        pytest.param("Bearer not-a-jwt", id="garbage-jwt"),
        pytest.param("Bearer a.b.c", id="three-garbage-segments"),
        pytest.param("Bearer é", id="non-ascii-token"),
    ],
)
def test_malformed_or_unknown_credentials_are_401_authentication_failed(
    client, tenant, authorization
):
    header = authorization.format(key=tenant.key).encode().decode("latin-1")
    response = get(client, tenant, header)
    assert_error(response, 401, "AUTHENTICATION_FAILED")


def test_unknown_key_and_wrong_key_get_the_same_answer(client, tenant):
    unknown = get(client, tenant, "Bearer bc_" + "0" * 96)
    near_miss = get(
        client, tenant, "Bearer " + tenant.key[:-1] + ("0" if tenant.key[-1] != "0" else "1")
    )
    assert unknown.json() == near_miss.json()


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_bearer_scheme_is_case_insensitive(client, tenant, scheme):
    response = get(client, tenant, f"{scheme} {tenant.key}")
    assert response.status_code == 200
    assert response.json()["id"] == tenant.customer.pk


def test_revoked_key_stops_working_on_the_next_request(key_client, tenant):
    assert key_client.get(customer_url(tenant)).status_code == 200
    ApiKey.objects.filter(organization=tenant.organization).update(revoked_at=timezone.now())
    assert_error(key_client.get(customer_url(tenant)), 401, "AUTHENTICATION_FAILED")


def test_expired_key_stops_working(client, tenant):
    key = issue_key(
        tenant.organization, tenant.owner, expires_at=timezone.now() + timedelta(hours=1)
    )
    assert get(client, tenant, f"Bearer {key}").status_code == 200
    ApiKey.objects.filter(digest=crypto.digest(key)).update(expires_at=timezone.now())
    assert_error(get(client, tenant, f"Bearer {key}"), 401, "AUTHENTICATION_FAILED")


def test_key_of_deactivated_organization_stops_working(key_client, tenant):
    assert key_client.get(customer_url(tenant)).status_code == 200
    tenant.organization.is_active = False
    tenant.organization.save()
    assert_error(key_client.get(customer_url(tenant)), 401, "AUTHENTICATION_FAILED")


def test_key_of_deactivated_creator_stops_working(key_client, tenant):
    assert key_client.get(customer_url(tenant)).status_code == 200
    tenant.owner.is_active = False
    tenant.owner.save()
    assert_error(key_client.get(customer_url(tenant)), 401, "AUTHENTICATION_FAILED")


def test_key_with_its_own_organization_id_is_accepted(client, tenant):
    response = get(client, tenant, f"Bearer {tenant.key}", str(tenant.organization.pk))
    assert response.status_code == 200


@pytest.mark.parametrize("organization_id", ["other", "abc", "", "0"])
def test_key_with_a_different_organization_id_is_403(client, tenant, other_tenant, organization_id):
    header = str(other_tenant.organization.pk) if organization_id == "other" else organization_id
    response = get(client, tenant, f"Bearer {tenant.key}", header)
    assert_error(response, 403, "ORGANIZATION_ACCESS_DENIED")


def test_key_cannot_read_another_organizations_customer(key_client, other_tenant):
    response = key_client.get(f"/api/customers/{other_tenant.customer.pk}")
    assert_error(response, 404, "CUSTOMER_NOT_FOUND")


def test_jwt_with_organization_id_is_accepted(jwt_client, tenant):
    assert jwt_client.get(customer_url(tenant)).status_code == 200


def test_jwt_without_organization_id_is_401_organization_id_required(client, tenant):
    response = get(client, tenant, f"Bearer {access_token(tenant.owner)}")
    assert_error(response, 401, "ORGANIZATION_ID_REQUIRED")


@pytest.mark.parametrize(
    "organization_id",
    [
        pytest.param("abc", id="not-an-integer"),
        pytest.param("1.5", id="decimal"),
        pytest.param("-1", id="negative"),
        pytest.param("9" * 30, id="huge"),
        pytest.param("999999", id="unknown-organization"),
        pytest.param("other", id="not-a-member"),
        pytest.param("inactive-membership", id="inactive-membership"),
        pytest.param("inactive-organization", id="inactive-organization"),
    ],
)
def test_jwt_organization_problems_are_one_403_answer(
    client, tenant, other_tenant, organization_id
):
    if organization_id == "other":
        organization_id = str(other_tenant.organization.pk)
    elif organization_id == "inactive-membership":
        Membership.objects.filter(user=tenant.owner).update(is_active=False)
        organization_id = str(tenant.organization.pk)
    elif organization_id == "inactive-organization":
        tenant.organization.is_active = False
        tenant.organization.save()
        organization_id = str(tenant.organization.pk)
    response = get(client, tenant, f"Bearer {access_token(tenant.owner)}", organization_id)
    error = assert_error(response, 403, "ORGANIZATION_ACCESS_DENIED")
    assert error["message"] == "You cannot act for this organization."


def test_jwt_of_inactive_user_is_401(client, tenant):
    token = access_token(tenant.owner)
    tenant.owner.is_active = False
    tenant.owner.save()
    response = get(client, tenant, f"Bearer {token}", str(tenant.organization.pk))
    assert_error(response, 401, "AUTHENTICATION_FAILED")


def test_jwt_of_inactive_user_without_organization_id_is_401_authentication_failed(client, tenant):
    token = access_token(tenant.owner)
    tenant.owner.is_active = False
    tenant.owner.save()
    assert_error(get(client, tenant, f"Bearer {token}"), 401, "AUTHENTICATION_FAILED")


def test_jwt_of_deleted_user_is_401(client, tenant):
    user = UserFactory()
    MembershipFactory(user=user, organization=tenant.organization)
    token = access_token(user)
    user.delete()
    response = get(client, tenant, f"Bearer {token}", str(tenant.organization.pk))
    assert_error(response, 401, "AUTHENTICATION_FAILED")


def test_jwt_signed_with_another_key_is_401(client, tenant):
    payload = dict(AccessToken.for_user(tenant.owner).payload)
    forged = jwt.encode(payload, "another-secret-" + "x" * 40, algorithm="HS256")
    response = get(client, tenant, f"Bearer {forged}", str(tenant.organization.pk))
    assert_error(response, 401, "AUTHENTICATION_FAILED")


def test_jwt_with_alg_none_is_401(client, tenant):
    payload = dict(AccessToken.for_user(tenant.owner).payload)
    unsigned = jwt.encode(payload, None, algorithm="none")
    response = get(client, tenant, f"Bearer {unsigned}", str(tenant.organization.pk))
    assert_error(response, 401, "AUTHENTICATION_FAILED")


def test_expired_jwt_is_401(client, tenant):
    token = AccessToken.for_user(tenant.owner)
    token.set_exp(lifetime=-timedelta(seconds=1))
    response = get(client, tenant, f"Bearer {token}", str(tenant.organization.pk))
    assert_error(response, 401, "AUTHENTICATION_FAILED")


def test_refresh_token_used_as_access_token_is_401(client, tenant):
    refresh = RefreshToken.for_user(tenant.owner)
    response = get(client, tenant, f"Bearer {refresh}", str(tenant.organization.pk))
    assert_error(response, 401, "AUTHENTICATION_FAILED")


def test_jwt_without_user_claim_is_401(client, tenant):
    token = AccessToken.for_user(tenant.owner)
    del token["user_id"]
    response = get(client, tenant, f"Bearer {token}", str(tenant.organization.pk))
    assert_error(response, 401, "AUTHENTICATION_FAILED")


def test_member_jwt_reads_and_writes_customers(client, tenant):
    member = UserFactory()
    MembershipFactory(user=member, organization=tenant.organization, role=Membership.Role.MEMBER)
    response = get(client, tenant, f"Bearer {access_token(member)}", str(tenant.organization.pk))
    assert response.status_code == 200
    edited = client.put(
        customer_url(tenant),
        {"customerType": "business", "displayName": "Renamed by a member"},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {access_token(member)}",
        HTTP_ORGANIZATION_ID=str(tenant.organization.pk),
    )
    assert edited.status_code == 200
    tenant.customer.refresh_from_db()
    assert tenant.customer.display_name == "Renamed by a member"


def test_api_key_path_runs_no_password_hasher(client, tenant):
    def refuse(*args, **kwargs):
        raise AssertionError("a password hasher ran on the API-key path")

    with (
        mock.patch("django.contrib.auth.hashers.get_hasher", refuse),
        mock.patch("django.contrib.auth.hashers.identify_hasher", refuse),
        mock.patch("django.contrib.auth.hashers.check_password", refuse),
        mock.patch("django.contrib.auth.hashers.make_password", refuse),
    ):
        assert get(client, tenant, f"Bearer {tenant.key}").status_code == 200
        unknown = get(client, tenant, "Bearer bc_" + "0" * 96)
        assert_error(unknown, 401, "AUTHENTICATION_FAILED")


def test_api_key_authentication_costs_one_query(key_client, tenant, max_queries):
    key_client.get(customer_url(tenant))  # lastUsedAt written: the next minute reads only
    with max_queries(2):  # the key with its organization and creator; the customer
        assert key_client.get(customer_url(tenant)).status_code == 200


def test_jwt_authentication_costs_one_query(jwt_client, tenant, max_queries):
    with max_queries(2):  # the membership with its user and organization; the customer
        assert jwt_client.get(customer_url(tenant)).status_code == 200


def test_last_used_at_is_written_at_most_once_a_minute(key_client, tenant):
    key_client.get(customer_url(tenant))
    first = ApiKey.objects.get(organization=tenant.organization).last_used_at
    assert first is not None
    key_client.get(customer_url(tenant))
    assert ApiKey.objects.get(organization=tenant.organization).last_used_at == first
    later = timezone.now() + timedelta(minutes=2)
    with mock.patch("authkeys.authentication.timezone.now", return_value=later):
        key_client.get(customer_url(tenant))
    assert ApiKey.objects.get(organization=tenant.organization).last_used_at == later


def test_settings_use_sha256_not_a_password_hasher_for_keys(tenant):
    stored = ApiKey.objects.get(organization=tenant.organization)
    assert stored.digest == crypto.digest(tenant.key)
    assert tenant.key not in {stored.digest, stored.prefix, stored.name}
    assert settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] == [
        "authkeys.authentication.BearerAuthentication"
    ]
