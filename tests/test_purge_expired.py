"""manage.py purge_expired: what has outlived its use goes, what is still live stays."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from customers.idempotency import KEY_LIFETIME
from customers.importing import uploads
from customers.models import (
    CustomerDuplicatePair,
    CustomerIdempotencyKey,
    CustomerSignalChange,
    ImportUpload,
    ImportUploadPart,
)
from tests.conftest import access_token
from tests.factories import customer_created

pytestmark = pytest.mark.django_db


def key_row(organization, key, age):
    return CustomerIdempotencyKey.objects.create(
        organization=organization, key=key, request_digest="0" * 64, created_at=timezone.now() - age
    )


def stored_upload(organization, name):
    body = b"customerType,displayName,currencyCode\nbusiness,Acme,USD\n"
    return uploads.store(
        organization=organization, chunks=[body], filename=name, fmt="csv", params={}
    )


def test_purges_expired_keys_uploads_and_refresh_tokens(tenant):
    key_row(tenant.organization, "old", KEY_LIFETIME + timedelta(minutes=1))
    key_row(tenant.organization, "live", KEY_LIFETIME - timedelta(minutes=1))
    stale = stored_upload(tenant.organization, "stale.csv")
    stored_upload(tenant.organization, "fresh.csv")
    ImportUpload.objects.filter(pk=stale.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    access_token(tenant.owner)  # issues (and records) a refresh token that is still valid
    OutstandingToken.objects.create(
        user=tenant.owner,
        jti="expired",
        token="x",
        created_at=timezone.now() - timedelta(days=30),
        expires_at=timezone.now() - timedelta(days=1),
    )
    out = StringIO()

    call_command("purge_expired", stdout=out)

    assert list(CustomerIdempotencyKey.objects.values_list("key", flat=True)) == ["live"]
    assert list(ImportUpload.objects.values_list("filename", flat=True)) == ["fresh.csv"]
    assert ImportUploadPart.objects.count() == 1  # the fresh file's one part
    assert not OutstandingToken.objects.filter(jti="expired").exists()
    assert OutstandingToken.objects.filter(user=tenant.owner).count() == 1
    assert "Deleted 1 expired idempotency keys and 1 expired import uploads" in out.getvalue()


def test_brings_every_organizations_duplicate_report_up_to_date(tenant, other_tenant):
    for owner in (tenant, other_tenant):
        customer_created(owner, "Acme Corp.", email="billing@acme.test")
        customer_created(owner, "ACME Corporation", email="BILLING@acme.test")
    assert CustomerSignalChange.objects.exists()  # nobody has opened a report yet
    out = StringIO()

    call_command("purge_expired", stdout=out)

    assert not CustomerSignalChange.objects.exists()
    assert CustomerDuplicatePair.objects.filter(organization=tenant.organization).count() == 1
    assert CustomerDuplicatePair.objects.filter(organization=other_tenant.organization).count() == 1
    assert "brought the duplicate pairs of 2 organizations up to date" in out.getvalue()
