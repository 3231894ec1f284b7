"""The other doors to API keys: management commands and the admin. The digest never shows."""

import logging
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from authkeys import crypto
from authkeys.models import ApiKey
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def run(command, *args):
    out, err = StringIO(), StringIO()
    call_command(command, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_create_api_key_prints_the_key_once_and_stores_its_digest(tenant):
    out, err = run(
        "create_api_key",
        "--organization",
        str(tenant.organization.pk),
        "--name",
        "CRM",
        "--user",
        tenant.owner.email,
    )
    key = out.strip()
    assert crypto.is_well_formed(key)
    stored = ApiKey.objects.get(digest=crypto.digest(key))
    assert (stored.organization, stored.created_by, stored.name) == (
        tenant.organization,
        tenant.owner,
        "CRM",
    )
    assert key not in err
    assert stored.digest not in out + err


def test_list_api_keys_shows_the_organizations_keys_without_secrets(tenant, other_tenant):
    run(
        "revoke_api_key",
        "--organization",
        str(tenant.organization.pk),
        "--id",
        str(tenant.api_key.pk),
    )
    out, _ = run("list_api_keys", "--organization", str(tenant.organization.pk))
    lines = out.strip().splitlines()
    assert lines[0].split("\t")[:3] == ["id", "prefix", "state"]
    assert len(lines) == 2
    assert tenant.api_key.prefix in lines[1]
    assert "revoked" in lines[1]
    assert tenant.api_key.digest not in out
    assert tenant.key not in out
    assert other_tenant.api_key.prefix not in out


def test_revoke_api_key_by_prefix_stops_the_key(tenant, key_client):
    out, _ = run(
        "revoke_api_key",
        "--organization",
        str(tenant.organization.pk),
        "--prefix",
        tenant.api_key.prefix,
    )
    assert out.startswith("Revoked")
    assert tenant.api_key.revoked_at is not None
    assert key_client.get(f"/api/customers/{tenant.customer.pk}").status_code == 401
    again, _ = run(
        "revoke_api_key",
        "--organization",
        str(tenant.organization.pk),
        "--id",
        str(tenant.api_key.pk),
    )
    assert again.startswith("Already revoked")


def test_revoke_api_key_will_not_touch_another_organizations_key(tenant, other_tenant):
    with pytest.raises(CommandError, match="No such API key"):
        run(
            "revoke_api_key",
            "--organization",
            str(tenant.organization.pk),
            "--id",
            str(other_tenant.api_key.pk),
        )
    assert other_tenant.api_key.revoked_at is None


@pytest.mark.parametrize("command", ["list_api_keys", "revoke_api_key", "create_api_key"])
def test_commands_refuse_an_unknown_organization(db, command):
    extra = {"revoke_api_key": ["--id", "1"], "create_api_key": ["--name", "x"]}.get(command, [])
    with pytest.raises(CommandError, match="No organization"):
        run(command, "--organization", "999999", *extra)


@pytest.fixture
def staff_client(db):
    staff = UserFactory(is_staff=True, is_superuser=True)
    browser = Client()
    browser.force_login(staff)
    return browser


def test_admin_shows_a_new_key_once_in_a_message_and_never_the_digest(staff_client, tenant):
    first = tenant.api_key
    response = staff_client.post(
        reverse("admin:authkeys_apikey_add"),
        {
            "organization": tenant.organization.pk,
            "name": "From admin",
            "expires_at_0": "",
            "expires_at_1": "",
        },
        follow=True,
    )
    assert response.status_code == 200
    stored = ApiKey.objects.get(name="From admin")
    page = response.content.decode()
    [key] = re.findall(r"bc_[0-9a-f]{96}", page)
    assert stored.digest == crypto.digest(key)
    assert stored.digest not in page

    change_page = staff_client.get(reverse("admin:authkeys_apikey_change", args=[stored.pk]))
    list_page = staff_client.get(reverse("admin:authkeys_apikey_changelist"))
    for later in (change_page, list_page):
        assert later.status_code == 200
        text = later.content.decode()
        assert key not in text
        assert stored.prefix in text
        assert stored.digest not in text
        assert first.digest not in text


def test_admin_revoke_action_stops_the_keys(staff_client, tenant, key_client):
    response = staff_client.post(
        reverse("admin:authkeys_apikey_changelist"),
        {"action": "revoke", "_selected_action": [tenant.api_key.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert tenant.api_key.revoked_at is not None
    assert key_client.get(f"/api/customers/{tenant.customer.pk}").status_code == 401


def test_the_digest_never_appears_in_responses_or_log_lines(jwt_client, key_client, tenant, caplog):
    caplog.set_level(logging.DEBUG)
    first = tenant.api_key
    generated = jwt_client.post("/api/api-keys/generate", {"name": "x"}, format="json")
    new_digest = crypto.digest(generated.json()["key"])
    responses = [
        generated,
        jwt_client.get("/api/api-keys"),
        key_client.get(f"/api/customers/{tenant.customer.pk}"),
        key_client.get("/api/api-keys"),  # 403, logged as a warning
        jwt_client.put(f"/api/api-keys/{first.pk}/revoke"),
        key_client.get(f"/api/customers/{tenant.customer.pk}"),  # 401 after revoking
        jwt_client.get("/api/schema"),
    ]
    digests = {new_digest, first.digest}
    for response in responses:
        body = response.content.decode()
        headers = str(dict(response.items()))
        assert not any(digest in body or digest in headers for digest in digests)
    assert caplog.records, "the 401/403 responses above are logged"
    for record in caplog.records:
        line = record.getMessage() + str(record.args)
        assert not any(digest in line for digest in digests)
