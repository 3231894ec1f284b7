"""Sign-in, refresh rotation, logout, and what ends a user's refresh tokens."""

from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.core.management import call_command
from django.test import override_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from tests.factories import PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def sign_in(client, email, password=PASSWORD, address="203.0.113.7"):
    return client.post(
        "/api/auth/token",
        {"email": email, "password": password},
        format="json",
        REMOTE_ADDR=address,
    )


def refresh(client, token):
    return client.post("/api/auth/token/refresh", {"refresh": token}, format="json")


def assert_error(response, status_code, error_type):
    assert response.status_code == status_code, response.content
    [error] = response.json()["errors"]
    assert (error["statusCode"], error["type"]) == (status_code, error_type)
    if status_code == 401:
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def throttle_rates(**rates):
    return override_settings(
        REST_FRAMEWORK={
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {
                **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                **rates,
            },
        }
    )


@pytest.mark.parametrize("path", ["/api/auth/token", "/api/auth/token/"])
def test_sign_in_by_email_and_password_gives_tokens_that_work(client, tenant, path):
    response = client.post(
        path, {"email": tenant.owner.email.upper(), "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    tokens = response.json()
    assert set(tokens) == {"access", "refresh"}
    assert OutstandingToken.objects.filter(user=tenant.owner).count() == 1
    me = client.get(
        f"/api/customers/{tenant.customer.pk}",
        HTTP_AUTHORIZATION=f"Bearer {tokens['access']}",
        HTTP_ORGANIZATION_ID=str(tenant.organization.pk),
    )
    assert me.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"email": "user@example.com", "password": "wrong"},
        {"email": "nobody@example.com", "password": PASSWORD},
    ],
)
def test_wrong_email_or_password_is_the_same_401(client, tenant, body):
    body = {**body, "email": tenant.owner.email if body["password"] == "wrong" else body["email"]}
    response = client.post("/api/auth/token", body, format="json")
    assert_error(response, 401, "AUTHENTICATION_FAILED")


def test_inactive_user_cannot_sign_in(client, tenant):
    tenant.owner.is_active = False
    tenant.owner.save()
    assert_error(sign_in(client, tenant.owner.email), 401, "AUTHENTICATION_FAILED")


def test_sign_in_without_password_is_400(client, tenant):
    response = client.post("/api/auth/token", {"email": tenant.owner.email}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "password"


def test_refresh_rotates_and_the_old_refresh_token_is_blacklisted(client, tenant):
    first = sign_in(client, tenant.owner.email).json()["refresh"]

    rotated = refresh(client, first)

    assert rotated.status_code == 200
    assert set(rotated.json()) == {"access", "refresh"}
    assert rotated.json()["refresh"] != first
    assert_error(refresh(client, first), 401, "AUTHENTICATION_FAILED")
    assert refresh(client, rotated.json()["refresh"]).status_code == 200


def test_inactive_user_cannot_refresh(client, tenant):
    token = sign_in(client, tenant.owner.email).json()["refresh"]
    tenant.owner.is_active = False
    tenant.owner.save()
    assert_error(refresh(client, token), 401, "AUTHENTICATION_FAILED")


def test_deleted_user_cannot_refresh(client, tenant):
    user = UserFactory()
    token = sign_in(client, user.email).json()["refresh"]
    user.delete()
    assert_error(refresh(client, token), 401, "AUTHENTICATION_FAILED")


@pytest.mark.parametrize("token", ["garbage", "", "a.b.c"])
def test_refresh_with_a_bad_token_is_an_error_not_a_500(client, token):
    response = refresh(client, token)
    assert response.status_code in (400, 401)
    assert response.json()["errors"]


def test_access_token_cannot_be_used_to_refresh(client, tenant):
    access = sign_in(client, tenant.owner.email).json()["access"]
    assert_error(refresh(client, access), 401, "AUTHENTICATION_FAILED")


@pytest.mark.parametrize("path", ["/api/auth/logout", "/api/auth/logout/"])
def test_logout_blacklists_the_refresh_token(client, tenant, path):
    token = sign_in(client, tenant.owner.email).json()["refresh"]

    response = client.post(path, {"refresh": token}, format="json")

    assert response.status_code == 204
    assert BlacklistedToken.objects.filter(token__user=tenant.owner).count() == 1
    assert_error(refresh(client, token), 401, "AUTHENTICATION_FAILED")
    again = client.post(path, {"refresh": token}, format="json")
    assert_error(again, 401, "AUTHENTICATION_FAILED")


def test_logout_with_garbage_is_401(client):
    response = client.post("/api/auth/logout", {"refresh": "garbage"}, format="json")
    assert_error(response, 401, "AUTHENTICATION_FAILED")


def test_password_change_ends_every_refresh_token_of_the_user(client, tenant, other_tenant):
    tokens = [sign_in(client, tenant.owner.email).json()["refresh"] for _ in range(2)]
    bystander = sign_in(client, other_tenant.owner.email).json()["refresh"]

    tenant.owner.set_password("a new long passphrase")
    tenant.owner.save()

    for token in tokens:
        assert_error(refresh(client, token), 401, "AUTHENTICATION_FAILED")
    assert refresh(client, bystander).status_code == 200
    assert sign_in(client, tenant.owner.email, "a new long passphrase").status_code == 200


def test_admin_password_form_ends_refresh_tokens(client, tenant):
    token = sign_in(client, tenant.owner.email).json()["refresh"]
    form = AdminPasswordChangeForm(
        tenant.owner, {"password1": "x7-long-new-pass", "password2": "x7-long-new-pass"}
    )
    assert form.is_valid(), form.errors
    form.save()
    assert_error(refresh(client, token), 401, "AUTHENTICATION_FAILED")


def test_changepassword_command_ends_refresh_tokens(client, tenant):
    token = sign_in(client, tenant.owner.email).json()["refresh"]
    with mock.patch(
        "django.contrib.auth.management.commands.changepassword.getpass.getpass",
        return_value="x7-long-new-pass",
    ):
        call_command("changepassword", tenant.owner.email, stdout=mock.Mock())
    assert_error(refresh(client, token), 401, "AUTHENTICATION_FAILED")


def test_saving_a_user_without_a_password_change_keeps_refresh_tokens(client, tenant):
    token = sign_in(client, tenant.owner.email).json()["refresh"]
    tenant.owner.name = "Renamed"
    tenant.owner.save()
    assert refresh(client, token).status_code == 200


def test_failed_sign_ins_are_limited_per_email(client, tenant):
    with throttle_rates(sign_in_email="3/hour", sign_in_address="100/hour"):
        for number in range(3):
            response = sign_in(client, tenant.owner.email, "wrong", address=f"198.51.100.{number}")
            assert_error(response, 401, "AUTHENTICATION_FAILED")
        blocked = sign_in(client, tenant.owner.email.upper(), address="198.51.100.99")
        assert_error(blocked, 429, "THROTTLED")
        assert 0 < int(blocked["Retry-After"]) <= 3600
        assert sign_in(client, other_email(tenant), address="198.51.100.99").status_code == 200


def test_failed_sign_ins_are_limited_per_address(client, tenant, other_tenant):
    with throttle_rates(sign_in_email="100/hour", sign_in_address="2/minute"):
        for _ in range(2):
            assert_error(sign_in(client, "nobody@example.com", "x"), 401, "AUTHENTICATION_FAILED")
        blocked = sign_in(client, tenant.owner.email)
        assert_error(blocked, 429, "THROTTLED")
        assert 0 < int(blocked["Retry-After"]) <= 60
        assert sign_in(client, tenant.owner.email, address="192.0.2.1").status_code == 200


def test_successful_sign_ins_are_not_limited(client, tenant):
    with throttle_rates(sign_in_email="2/hour", sign_in_address="2/hour"):
        for _ in range(5):
            assert sign_in(client, tenant.owner.email).status_code == 200


def test_a_blocked_sign_in_runs_no_password_hasher(client, tenant):
    with throttle_rates(sign_in_email="1/hour"):
        sign_in(client, tenant.owner.email, "wrong")
        with mock.patch(
            "django.contrib.auth.hashers.get_hasher", side_effect=AssertionError("hashed")
        ):
            assert_error(sign_in(client, tenant.owner.email), 429, "THROTTLED")


def other_email(tenant):
    user = UserFactory()
    MembershipFactory(user=user, organization=tenant.organization)
    return user.email


@pytest.mark.parametrize(
    "email", ["x" * 10_000 + "@example.com", "with spaces and\ttabs@example.com", "é@ü.example"]
)
def test_failed_sign_in_with_any_email_is_401_not_a_500(client, database_cache, email):
    response = sign_in(client, email, "wrong")
    assert_error(response, 401, "AUTHENTICATION_FAILED")
