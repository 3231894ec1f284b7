"""Organizations, memberships, branches, users and API keys in the back office, scoped."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from authkeys import crypto
from authkeys.models import ApiKey

ORGANIZATIONS = reverse("admin:organizations_organization_changelist")
KEYS = reverse("admin:authkeys_apikey_changelist")


def listed(response) -> list[str]:
    return [str(row) for row in response.context["cl"].result_list]


def test_staff_see_only_their_organizations(staff_client, tenant):
    assert listed(staff_client.get(ORGANIZATIONS)) == [tenant.organization.name]


def test_superuser_sees_every_organization(superuser_client):
    assert listed(superuser_client.get(ORGANIZATIONS)) == ["Tenant A", "Tenant B"]


def test_organization_page_shows_memberships_and_branches_inline(staff_client, tenant):
    url = reverse("admin:organizations_organization_change", args=[tenant.organization.pk])

    response = staff_client.get(url)

    assert response.status_code == 200
    prefixes = [formset.formset.prefix for formset in response.context["inline_admin_formsets"]]
    assert prefixes == ["memberships", "branches"]
    content = response.content.decode()
    assert tenant.owner.email in content
    assert tenant.branch.name in content


def test_renaming_the_users_organization_with_its_inlines(staff_client, tenant):
    url = reverse("admin:organizations_organization_change", args=[tenant.organization.pk])
    membership = tenant.organization.memberships.get()
    data = {
        "name": "Renamed",
        "base_currency": "USD",
        "is_active": "on",
        "response_casing": "camel",
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "1",
        "memberships-0-id": membership.pk,
        "memberships-0-organization": tenant.organization.pk,
        "memberships-0-user": tenant.owner.pk,
        "memberships-0-role": "owner",
        "memberships-0-is_active": "on",
        "branches-TOTAL_FORMS": "1",
        "branches-INITIAL_FORMS": "1",
        "branches-0-id": tenant.branch.pk,
        "branches-0-organization": tenant.organization.pk,
        "branches-0-name": "Head office",
        "branches-0-code": tenant.branch.code,
        "branches-0-is_primary": "on",
    }

    response = staff_client.post(url, data)

    assert response.status_code == 302
    tenant.organization.refresh_from_db()
    tenant.branch.refresh_from_db()
    assert (tenant.organization.name, tenant.branch.name) == ("Renamed", "Head office")


@pytest.mark.parametrize(
    ("model", "attribute"),
    [
        ("organizations_organization", "organization"),
        ("organizations_branch", "branch"),
        ("authkeys_apikey", "api_key"),
    ],
)
def test_another_organizations_rows_by_url_are_answered_as_missing(
    staff_client, other_tenant, model, attribute
):
    url = reverse(f"admin:{model}_change", args=[getattr(other_tenant, attribute).pk])

    response = staff_client.get(url)

    assert response.status_code == 302
    assert response.url == reverse("admin:index")


def test_memberships_users_and_branches_lists_are_scoped(staff_client, tenant, other_tenant):
    memberships = staff_client.get(reverse("admin:organizations_membership_changelist"))
    users = staff_client.get(reverse("admin:organizations_user_changelist"))
    branches = staff_client.get(reverse("admin:organizations_branch_changelist"))

    assert [m.user for m in memberships.context["cl"].result_list] == [tenant.owner]
    assert list(users.context["cl"].result_list) == [tenant.owner]
    assert list(branches.context["cl"].result_list) == [tenant.branch]


def test_creating_an_api_key_shows_it_once_and_never_its_digest(staff_client, tenant):
    response = staff_client.post(
        reverse("admin:authkeys_apikey_add"),
        {"organization": tenant.organization.pk, "name": "CRM sync"},
        follow=True,
    )

    [shown] = [
        message.split(": ")[-1]
        for message in map(str, get_messages(response.wsgi_request))
        if "not be shown again" in message
    ]
    key = ApiKey.objects.get(name="CRM sync")
    assert key.organization == tenant.organization
    assert key.digest == crypto.digest(shown)
    assert shown in response.content.decode()
    pages = [
        response,
        staff_client.get(KEYS),
        staff_client.get(reverse("admin:authkeys_apikey_change", args=[key.pk])),
    ]
    for page in pages:
        assert key.digest not in page.content.decode()
    assert shown not in staff_client.get(KEYS).content.decode()
    assert list(staff_client.get(KEYS, {"q": key.digest}).context["cl"].result_list) == []


def test_creating_an_api_key_for_another_organization_is_refused(staff_client, other_tenant):
    response = staff_client.post(
        reverse("admin:authkeys_apikey_add"),
        {"organization": other_tenant.organization.pk, "name": "Sneaky"},
    )

    assert "organization" in response.context["adminform"].form.errors
    assert not ApiKey.objects.filter(name="Sneaky").exists()


def test_revoke_action_revokes_only_the_users_keys(staff_client, tenant, other_tenant):
    staff_client.post(
        KEYS,
        {"action": "revoke", "_selected_action": [tenant.api_key.pk, other_tenant.api_key.pk]},
    )

    assert tenant.api_key.revoked_at is not None
    assert other_tenant.api_key.revoked_at is None


def test_api_key_organization_filter_lists_only_the_users_organizations(staff_client, other_tenant):
    content = staff_client.get(KEYS).content.decode()

    assert other_tenant.organization.name not in content


def test_staff_cannot_make_a_colleague_a_superuser(staff_client, tenant):
    url = reverse("admin:organizations_user_change", args=[tenant.owner.pk])

    form = staff_client.get(url).context["adminform"].form

    assert {"is_staff", "is_superuser", "groups"}.isdisjoint(form.fields)
