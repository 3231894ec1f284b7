"""manage.py purge_expired: what has outlived its use goes, what is still live stays."""

import os
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from customers import admin_io
from customers.idempotency import KEY_LIFETIME
from customers.models import CustomerIdempotencyKey
from tests.conftest import access_token

pytestmark = pytest.mark.django_db


def key_row(organization, key, age):
    return CustomerIdempotencyKey.objects.create(
        organization=organization, key=key, request_digest="0" * 64, created_at=timezone.now() - age
    )


@pytest.fixture
def uploads(tmp_path, monkeypatch):
    monkeypatch.setattr(admin_io, "UPLOADS", tmp_path)
    return tmp_path


def test_purges_expired_keys_stale_uploads_and_expired_refresh_tokens(tenant, uploads):
    key_row(tenant.organization, "old", KEY_LIFETIME + timedelta(minutes=1))
    key_row(tenant.organization, "live", KEY_LIFETIME - timedelta(minutes=1))
    stale, fresh = uploads / "stale", uploads / "fresh"
    stale.write_bytes(b"x")
    fresh.write_bytes(b"y")
    day_and_a_bit = (timezone.now() - admin_io.UPLOAD_LIFETIME - timedelta(minutes=1)).timestamp()
    os.utime(stale, (day_and_a_bit, day_and_a_bit))
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
    assert sorted(path.name for path in uploads.iterdir()) == ["fresh"]
    assert not OutstandingToken.objects.filter(jti="expired").exists()
    assert OutstandingToken.objects.filter(user=tenant.owner).count() == 1
    assert "Deleted 1 expired idempotency keys and 1 unconfirmed uploads" in out.getvalue()
