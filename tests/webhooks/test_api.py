"""`/api/webhooks…`: managed by an organization's owners and admins; every bad URL refused."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from customers.models import CustomerChange
from organizations.models import Membership, Organization
from webhooks import services, tasks
from webhooks.models import WebhookDelivery, WebhookEndpoint

from ..conftest import access_token
from ..factories import MembershipFactory, UserFactory

PUBLIC_URL = "https://93.184.215.14/hooks"  # an address literal: no DNS needed to check it
postgres_only = pytest.mark.postgres_only
pytestmark = pytest.mark.django_db


def created(client, **body) -> dict:
    body = {"name": "CRM", "url": PUBLIC_URL, "events": ["*"], **body}
    response = client.post("/api/webhooks", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


@postgres_only
def test_an_owner_creates_a_webhook_and_sees_its_secret_once(tenant, jwt_client):
    body = created(jwt_client, events=["customer.created", "customer.edited"])

    assert body["secret"].startswith("whsec_")
    assert body["events"] == ["customer.created", "customer.edited"]
    assert (body["active"], body["timeoutSeconds"]) == (True, 10)
    shown = jwt_client.get(f"/api/webhooks/{body['id']}").json()
    assert "secret" not in shown
    assert jwt_client.get("/api/webhooks").json() == {"webhooks": [shown]}
    assert WebhookEndpoint.objects.get().secret == body["secret"]
    tenant.organization.refresh_from_db()
    assert tenant.organization.delivers_webhooks


@postgres_only
def test_change_toggle_and_delete_keep_the_organizations_flag(tenant, jwt_client):
    webhook = created(jwt_client)
    url = f"/api/webhooks/{webhook['id']}"

    changed = jwt_client.put(url, {"name": "Billing", "timeoutSeconds": 3}, format="json")
    assert (changed.json()["name"], changed.json()["timeoutSeconds"]) == ("Billing", 3)
    assert changed.json()["url"] == PUBLIC_URL

    assert jwt_client.post(f"{url}/toggle").json()["active"] is False
    tenant.organization.refresh_from_db()
    assert not tenant.organization.delivers_webhooks
    assert jwt_client.post(f"{url}/toggle").json()["active"] is True
    tenant.organization.refresh_from_db()
    assert tenant.organization.delivers_webhooks

    assert jwt_client.delete(url).json() == {"id": webhook["id"]}
    assert jwt_client.get(url).status_code == 404
    tenant.organization.refresh_from_db()
    assert not tenant.organization.delivers_webhooks


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://127.0.0.1/hooks", "loopback"),
        ("https://[::1]/hooks", "loopback"),
        ("https://10.0.0.1/hooks", "private"),
        ("https://192.168.1.20/hooks", "private"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://[::ffff:169.254.169.254]/", "link-local"),
        ("https://localhost/hooks", "loopback"),
        ("http://93.184.215.14/hooks", "https"),
        ("ftp://93.184.215.14/hooks", "https"),
        ("https://user:pass@93.184.215.14/hooks", "password"),
        ("https://no-such-host.invalid/hooks", "does not resolve"),
        ("not a url", "https"),
    ],
)
@postgres_only
def test_a_url_that_is_not_public_https_is_a_400_and_nothing_is_saved(jwt_client, url, why):
    response = jwt_client.post(
        "/api/webhooks", {"name": "x", "url": url, "events": ["*"]}, format="json"
    )

    assert response.status_code == 400, response.content
    [error] = response.json()["errors"]
    assert error["field"] == "url"
    assert why in error["message"]
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"events": ["customer.renamed"]}, "events"),
        ({"events": []}, "events"),
        ({"events": "*"}, "events"),
        ({"name": ""}, "name"),
        ({"timeoutSeconds": 0}, "timeoutSeconds"),
        ({"timeoutSeconds": 31}, "timeoutSeconds"),
        ({"colour": "red"}, "colour"),
    ],
)
@postgres_only
def test_bad_fields_are_a_400_naming_them(jwt_client, body, field):
    body = {"name": "x", "url": PUBLIC_URL, "events": ["*"], **body}

    response = jwt_client.post("/api/webhooks", body, format="json")

    assert response.status_code == 400, response.content
    fields = [error.get("field") or "" for error in response.json()["errors"]]
    assert any(name.split(".")[0] == field for name in fields), fields
    assert not WebhookEndpoint.objects.exists()


@postgres_only
def test_changing_the_url_to_a_private_address_is_refused(jwt_client):
    webhook = created(jwt_client)

    response = jwt_client.put(
        f"/api/webhooks/{webhook['id']}", {"url": "https://10.1.2.3/"}, format="json"
    )

    assert response.status_code == 400
    assert WebhookEndpoint.objects.get().url == PUBLIC_URL


def test_loopback_http_is_allowed_only_by_the_development_setting(jwt_client, settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP = True
    body = {"name": "dev", "url": "http://127.0.0.1:9000/hooks", "events": ["*"]}
    response = jwt_client.post("/api/webhooks", body, format="json")
    if connection.vendor != "postgresql":
        assert response.status_code == 501
        return
    assert response.status_code == 201
    body["url"] = "http://10.0.0.1/hooks"
    assert jwt_client.post("/api/webhooks", body, format="json").status_code == 400


@postgres_only
def test_another_organizations_webhook_is_not_found_by_any_route(tenant, other_tenant, jwt_client):
    theirs = services.endpoint_create(
        organization=other_tenant.organization, name="Theirs", url=PUBLIC_URL, event_types=["*"]
    )
    base = f"/api/webhooks/{theirs.pk}"

    answers = [
        jwt_client.get(base),
        jwt_client.put(base, {"name": "Mine"}, format="json"),
        jwt_client.delete(base),
        jwt_client.post(f"{base}/toggle"),
        jwt_client.get(f"{base}/deliveries"),
        jwt_client.post(f"{base}/deliveries/1/redeliver"),
    ]

    assert {answer.status_code for answer in answers} == {404}
    assert {answer.json()["errors"][0]["type"] for answer in answers} == {"WEBHOOK_NOT_FOUND"}
    assert WebhookEndpoint.objects.get(pk=theirs.pk).name == "Theirs"
    assert WebhookEndpoint.objects.get(pk=theirs.pk).is_active
    assert jwt_client.get("/api/webhooks").json() == {"webhooks": []}


def test_an_api_key_or_a_member_cannot_manage_webhooks(tenant, key_client):
    member = UserFactory()
    MembershipFactory(organization=tenant.organization, user=member, role=Membership.Role.MEMBER)
    member_client = APIClient()
    member_client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {access_token(member)}",
        HTTP_ORGANIZATION_ID=str(tenant.organization.pk),
    )

    for client in (key_client, member_client):
        assert client.get("/api/webhooks").status_code == 403
        response = client.post(
            "/api/webhooks", {"name": "x", "url": PUBLIC_URL, "events": ["*"]}, format="json"
        )
        assert response.status_code == 403
    assert not WebhookEndpoint.objects.exists()


def test_on_sqlite_webhooks_are_refused_saying_why(jwt_client):
    if connection.vendor == "postgresql":
        pytest.skip("SQLite's answer; PostgreSQL delivers webhooks")
    response = jwt_client.post(
        "/api/webhooks", {"name": "x", "url": PUBLIC_URL, "events": ["*"]}, format="json"
    )

    assert response.status_code == 501
    [error] = response.json()["errors"]
    assert error["type"] == "WEBHOOKS_UNAVAILABLE"
    assert "PostgreSQL" in error["message"]
    assert jwt_client.get("/api/webhooks").json() == {"webhooks": []}


@postgres_only
def test_deliveries_are_listed_newest_first_and_one_can_be_sent_again(
    tenant, jwt_client, key_client
):
    from procrastinate.contrib.django.models import ProcrastinateJob

    webhook = created(jwt_client, events=["customer.edited"])
    for name in ("First", "Second"):
        key_client.patch(
            f"/api/customers/{tenant.customer.pk}", {"displayName": name}, format="json"
        )
    key_client.post(
        "/api/customers",
        {"customerType": "business", "displayName": "New", "currencyCode": "USD"},
        format="json",
    )
    assert ProcrastinateJob.objects.filter(task_name="webhooks.dispatch").count() == 3

    tasks.dispatch(organization_id=tenant.organization.pk)  # what the worker's job does

    listed = jwt_client.get(f"/api/webhooks/{webhook['id']}/deliveries").json()
    assert [d["eventType"] for d in listed["deliveries"]] == ["customer.edited"] * 2
    assert listed["pagination"] == {"page": 1, "pageSize": 12, "total": 2}
    newest = listed["deliveries"][0]
    event = CustomerChange.objects.get(pk=newest["eventId"])
    assert event.snapshot["displayName"] == "Second"
    assert newest["webhookId"] == f"evt_{event.pk}"
    assert (newest["status"], newest["attempts"]) == ("pending", 0)
    assert ProcrastinateJob.objects.filter(task_name="webhooks.deliver").count() == 2

    WebhookDelivery.objects.filter(pk=newest["id"]).update(status="failed", attempts=9)
    again = jwt_client.post(f"/api/webhooks/{webhook['id']}/deliveries/{newest['id']}/redeliver")

    assert again.status_code == 202
    assert again.json()["status"] == "pending"
    assert ProcrastinateJob.objects.filter(task_name="webhooks.deliver").count() == 3
    missing = jwt_client.post(f"/api/webhooks/{webhook['id']}/deliveries/999999/redeliver")
    assert missing.json()["errors"][0]["type"] == "DELIVERY_NOT_FOUND"


@postgres_only
def test_a_change_that_fails_queues_nothing_and_one_that_commits_queues_its_dispatch(
    tenant, jwt_client, key_client
):
    from procrastinate.contrib.django.models import ProcrastinateJob

    created(jwt_client)
    key_client.post(
        "/api/customers",
        {"customerType": "business", "displayName": "Taken", "currencyCode": "USD", "code": "T1"},
        format="json",
    )
    before = ProcrastinateJob.objects.count()

    refused = key_client.patch(
        f"/api/customers/{tenant.customer.pk}", {"code": "T1"}, format="json"
    )

    assert refused.status_code == 400
    assert ProcrastinateJob.objects.count() == before
    key_client.post("/api/customers/bulk-delete", {"ids": [tenant.customer.pk]}, format="json")
    assert ProcrastinateJob.objects.count() == before + 1


@postgres_only
def test_a_delivery_to_a_url_that_now_resolves_to_loopback_is_refused_unsent(tenant, settings):
    endpoint = services.endpoint_create(
        organization=tenant.organization, name="x", url=PUBLIC_URL, event_types=["*"]
    )
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url="https://localhost:1/hooks")
    change = CustomerChange.objects.create(
        organization=tenant.organization,
        customer_id=tenant.customer.pk,
        customer_display_name="x",
        action=CustomerChange.Action.UPDATE,
        door="api",
        changes={},
        snapshot={"id": tenant.customer.pk},
        position=99,
    )

    outcome = services.attempt(
        organization_id=tenant.organization.pk, endpoint_id=endpoint.pk, event_id=change.pk
    )

    assert outcome.retry
    delivery = WebhookDelivery.objects.get()
    assert "loopback" in delivery.error
    assert delivery.response_status is None
    assert Organization.objects.get(pk=tenant.organization.pk).delivers_webhooks


@postgres_only
def test_finished_deliveries_older_than_the_retention_are_purged(tenant, key_client, settings):
    endpoint = services.endpoint_create(
        organization=tenant.organization, name="x", url=PUBLIC_URL, event_types=["*"]
    )
    for name in ("Old", "Older", "Pending"):
        key_client.patch(
            f"/api/customers/{tenant.customer.pk}", {"displayName": name}, format="json"
        )
    tasks.dispatch(organization_id=tenant.organization.pk)
    old, older, pending = WebhookDelivery.objects.order_by("id")
    long_ago = timezone.now() - timedelta(days=settings.EVENT_RETENTION_DAYS + 1)
    WebhookDelivery.objects.filter(pk__in=[old.pk, pending.pk]).update(created_at=long_ago)
    WebhookDelivery.objects.filter(pk__in=[old.pk, older.pk]).update(status="succeeded")

    assert services.purge_expired() == 1

    assert list(WebhookDelivery.objects.order_by("id")) == [older, pending]
    assert WebhookEndpoint.objects.get() == endpoint
