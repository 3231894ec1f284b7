"""Bigcapital's sign-in (`POST /api/auth/signin`) and account (`GET /api/auth/account`)."""

from datetime import timedelta

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from organizations.models import Membership
from tests.factories import PASSWORD, MembershipFactory, OrganizationFactory, UserFactory

from .test_sign_in import assert_error, throttle_rates

pytestmark = pytest.mark.django_db

ANSWER_KEYS = {"access_token", "refresh_token", "organization_id", "tenant_id", "user_id"}


def sign_in(email, password=PASSWORD, address="203.0.113.7"):
    return APIClient().post(
        "/api/auth/signin",
        {"email": email, "password": password},
        format="json",
        REMOTE_ADDR=address,
    )


def as_bigcapital_client(answer: dict) -> APIClient:
    """What a Bigcapital client does with the answer: the token, and organization-id."""
    api = APIClient()
    api.credentials(
        HTTP_AUTHORIZATION=f"Bearer {answer['access_token']}",
        HTTP_ORGANIZATION_ID=answer["organization_id"],
    )
    return api


@pytest.mark.parametrize("path", ["/api/auth/signin", "/api/auth/signin/"])
def test_sign_in_answers_bigcapitals_shape_and_the_token_works(tenant, path):
    response = APIClient().post(
        path, {"email": tenant.owner.email, "password": PASSWORD}, format="json"
    )

    assert response.status_code == 200
    answer = response.json()
    camel = {"accessToken", "refreshToken", "organizationId", "tenantId", "userId"}
    assert set(answer) == ANSWER_KEYS | camel
    assert answer["organization_id"] == answer["organizationId"] == str(tenant.organization.pk)
    assert answer["tenant_id"] == tenant.organization.pk
    assert answer["user_id"] == answer["userId"] == tenant.owner.pk
    assert answer["accessToken"] == answer["access_token"]
    customer = as_bigcapital_client(answer).get(f"/api/customers/{tenant.customer.pk}")
    assert customer.status_code == 200
    assert customer.json()["displayName"] == tenant.customer.display_name


def test_a_user_of_several_organizations_gets_the_one_joined_first_and_may_choose(
    tenant, other_tenant
):
    later = OrganizationFactory(name="Joined later")
    MembershipFactory(user=tenant.owner, organization=later)
    MembershipFactory(user=tenant.owner, organization=other_tenant.organization)
    inactive_first = OrganizationFactory(name="Closed", is_active=False)
    Membership.objects.create(user=tenant.owner, organization=inactive_first)
    Membership.objects.filter(user=tenant.owner, organization=inactive_first).update(
        created_at=tenant.organization.created_at - timedelta(days=1)
    )

    answer = sign_in(tenant.owner.email).json()

    assert answer["organization_id"] == str(tenant.organization.pk)
    api = as_bigcapital_client(answer)
    api.credentials(
        HTTP_AUTHORIZATION=f"Bearer {answer['access_token']}",
        HTTP_ORGANIZATION_ID=str(other_tenant.organization.pk),
    )
    chosen = api.get(f"/api/customers/{other_tenant.customer.pk}")
    assert chosen.status_code == 200


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(tenant):
    wrong = sign_in(tenant.owner.email, "not the password")
    unknown = sign_in("nobody@example.com", "not the password")

    assert_error(wrong, 401, "AUTHENTICATION_FAILED")
    assert wrong.json() == unknown.json()


def test_a_user_with_no_active_membership_is_refused(tenant):
    Membership.objects.filter(user=tenant.owner).update(is_active=False)

    response = sign_in(tenant.owner.email)

    assert_error(response, 403, "ORGANIZATION_ACCESS_DENIED")
    assert "access_token" not in response.json()


def test_failed_sign_ins_here_count_toward_the_token_endpoints_limit(client, tenant):
    with throttle_rates(sign_in_email="2/hour", sign_in_address="100/hour"):
        assert sign_in(tenant.owner.email, "wrong").status_code == 401
        assert (
            client.post(
                "/api/auth/token", {"email": tenant.owner.email, "password": "wrong"}, format="json"
            ).status_code
            == 401
        )

        assert_error(sign_in(tenant.owner.email), 429, "THROTTLED")


def test_an_expired_access_token_is_401_so_the_client_signs_in_again(tenant):
    token = AccessToken.for_user(tenant.owner)
    token.set_exp(lifetime=-timedelta(seconds=1))
    api = APIClient()
    api.credentials(
        HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ORGANIZATION_ID=str(tenant.organization.pk)
    )

    assert_error(api.get("/api/auth/account"), 401, "AUTHENTICATION_FAILED")
    assert sign_in(tenant.owner.email).status_code == 200


def test_account_shows_the_signed_in_user_and_organization(tenant):
    tenant.owner.name = "Ada Lovelace"
    tenant.owner.save()

    response = as_bigcapital_client(sign_in(tenant.owner.email).json()).get("/api/auth/account")

    assert response.status_code == 200
    body = response.json()
    assert {key: body[key] for key in ("id", "email", "firstName", "lastName", "role")} == {
        "id": tenant.owner.pk,
        "email": tenant.owner.email,
        "firstName": "Ada",
        "lastName": "Lovelace",
        "role": "owner",
    }
    assert body["organization"] == {
        "id": tenant.organization.pk,
        "name": tenant.organization.name,
        "baseCurrency": tenant.organization.base_currency,
    }
    assert (body["tenantId"], body["organizationId"]) == (
        tenant.organization.pk,
        str(tenant.organization.pk),
    )
    assert body["apiKeyId"] is None


def test_account_with_an_api_key_is_its_creator_and_its_organization(tenant, key_client):
    body = key_client.get("/api/auth/account").json()

    assert (body["id"], body["organization"]["id"]) == (tenant.owner.pk, tenant.organization.pk)
    assert (body["role"], body["apiKeyId"]) == (None, tenant.api_key.pk)


def test_account_for_another_organization_is_refused(tenant, other_tenant):
    answer = sign_in(tenant.owner.email).json()
    api = APIClient()
    api.credentials(
        HTTP_AUTHORIZATION=f"Bearer {answer['access_token']}",
        HTTP_ORGANIZATION_ID=str(other_tenant.organization.pk),
    )

    assert_error(api.get("/api/auth/account"), 403, "ORGANIZATION_ACCESS_DENIED")


def test_account_without_credentials_is_401():
    assert_error(APIClient().get("/api/auth/account"), 401, "NOT_AUTHENTICATED")


def test_sign_in_with_unknown_fields_is_400(tenant):
    response = APIClient().post(
        "/api/auth/signin",
        {"email": tenant.owner.email, "password": PASSWORD, "remember": True},
        format="json",
    )

    assert_error(response, 400, "UNKNOWN_FIELD")


def test_sign_in_of_a_user_never_made_a_member_is_refused():
    user = UserFactory()

    assert_error(sign_in(user.email), 403, "ORGANIZATION_ACCESS_DENIED")


def test_auth_meta_says_there_is_no_self_sign_up():
    response = APIClient().get("/api/auth/meta")

    assert response.status_code == 200
    assert response.json() == {"signupDisabled": True, "signup_disabled": True}
    assert APIClient().post("/api/auth/signup", {}, format="json").status_code == 404
