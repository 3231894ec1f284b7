"""Webhooks in the back office: made through the same service as the API, the secret shown once,
and the owner warned of an endpoint that delivery disabled."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from webhooks import services
from webhooks.models import WebhookEndpoint

from ..admin.conftest import logged_in, make_staff

pytestmark = [pytest.mark.django_db, pytest.mark.postgres_only]


def test_staff_create_a_webhook_and_see_its_secret_once(tenant):
    browser = logged_in(make_staff(tenant.owner))

    response = browser.post(
        reverse("admin:webhooks_webhookendpoint_add"),
        {
            "organization": tenant.organization.pk,
            "name": "Warehouse",
            "url": "https://93.184.215.14/in",
            "events": ["customer.created", "customer.deleted"],
            "timeout_seconds": 5,
        },
    )

    assert response.status_code == 302, response.content
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["customer.created", "customer.deleted"]
    assert endpoint.created_by == tenant.owner
    shown = [str(message) for message in get_messages(response.wsgi_request)]
    assert any(endpoint.secret in message for message in shown)
    tenant.organization.refresh_from_db()
    assert tenant.organization.delivers_webhooks


def test_a_private_url_is_refused_in_the_form(tenant):
    browser = logged_in(make_staff(tenant.owner))

    response = browser.post(
        reverse("admin:webhooks_webhookendpoint_add"),
        {
            "organization": tenant.organization.pk,
            "name": "Sneaky",
            "url": "https://169.254.169.254/latest",
            "events": ["*"],
            "timeout_seconds": 5,
        },
    )

    assert response.status_code == 200
    assert "link-local" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_the_owner_is_warned_of_a_webhook_disabled_for_failing(tenant, other_tenant):
    endpoint = services.endpoint_create(
        organization=tenant.organization,
        name="Flaky CRM",
        url="https://93.184.215.14/in",
        event_types=["*"],
    )
    now = timezone.now()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        is_active=False, failing_since=now - timedelta(days=3), disabled_at=now
    )
    theirs = services.endpoint_create(
        organization=other_tenant.organization,
        name="Their CRM",
        url="https://93.184.215.14/in",
        event_types=["*"],
    )
    WebhookEndpoint.objects.filter(pk=theirs.pk).update(is_active=False, disabled_at=now)

    page = logged_in(make_staff(tenant.owner)).get(
        reverse("admin:webhooks_webhookendpoint_changelist")
    )

    text = page.content.decode()
    assert "Flaky CRM" in text
    assert "was disabled" in text
    assert "Their CRM" not in text
