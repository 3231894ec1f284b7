"""The admin's import (upload → preview → confirm) and export, through the same service."""

import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from customers.models import Customer, CustomerChange, ImportUpload
from tests.factories import CustomerFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

IMPORT_URL = "/admin/customers/customer/import/"
CHANGELIST_URL = "/admin/customers/customer/"
BODY = b"customerType,displayName,code,currencyCode\nbusiness,From admin,ADM-1,USD\n"


@pytest.fixture
def staff(tenant):
    user = UserFactory(is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="customers",
            codename__in=["add_customer", "change_customer", "view_customer"],
        )
    )
    MembershipFactory(organization=tenant.organization, user=user)
    browser = Client()
    browser.force_login(user)
    browser.user = user
    return browser


def upload(browser, organization, body=BODY, name="customers.csv", **extra):
    return browser.post(
        IMPORT_URL,
        {
            "organization": organization.pk,
            "file": SimpleUploadedFile(name, body),
            "mode": "create",
            "match": "code",
            **extra,
        },
    )


def test_upload_previews_without_writing_then_confirm_imports_as_the_staff_user(staff, tenant):
    preview = upload(staff, tenant.organization)

    assert preview.status_code == 200
    assert "created 1, updated 0, unchanged 0, failed 0" in preview.content.decode()
    assert "Confirm import" in preview.content.decode()
    assert not Customer.objects.filter(code="ADM-1").exists()

    token = preview.context["preview"].token
    confirmed = staff.post(IMPORT_URL, {"confirm": token})

    assert confirmed.status_code == 302
    customer = Customer.objects.get(code="ADM-1", organization=tenant.organization)
    change = CustomerChange.objects.get(customer_id=customer.pk)
    assert (change.door, change.actor_user) == ("import", staff.user)


def test_the_upload_is_kept_in_the_database_for_any_server_to_confirm(staff, tenant):
    token = upload(staff, tenant.organization).context["preview"].token

    stored = ImportUpload.objects.get(organization=tenant.organization)
    assert b"".join(bytes(data) for data in stored.parts.values_list("data", flat=True)) == BODY
    # Another server: a new client with the same session cookie, and no local state shared.
    other_server = Client()
    other_server.cookies = staff.cookies
    confirmed = other_server.post(IMPORT_URL, {"confirm": token})

    assert confirmed.status_code == 302
    assert Customer.objects.filter(code="ADM-1", organization=tenant.organization).exists()
    assert not ImportUpload.objects.exists()  # a confirmed upload is not kept


def test_confirming_a_preview_whose_upload_expired_asks_for_a_new_upload(staff, tenant):
    token = upload(staff, tenant.organization).context["preview"].token
    ImportUpload.objects.update(expires_at=timezone.now())  # a day later

    confirmed = staff.post(IMPORT_URL, {"confirm": token}, follow=True)

    assert confirmed.status_code == 200
    assert "That preview has expired: upload the file again." in confirmed.content.decode()
    assert not Customer.objects.filter(code="ADM-1").exists()


def test_preview_lists_every_error_and_offers_no_confirm(staff, tenant):
    body = BODY + b"business,,ADM-2,USD\n"

    preview = upload(staff, tenant.organization, body)

    page = preview.content.decode()
    assert "failed 1" in page
    assert "This field is required." in page
    assert "Confirm import" not in page
    assert staff.post(IMPORT_URL, {"confirm": "guess"}).status_code == 302
    assert not ImportUpload.objects.exists()  # a file refused at its preview is not kept
    assert not Customer.objects.filter(code__startswith="ADM").exists()


def test_staff_cannot_import_into_an_organization_they_do_not_belong_to(
    staff, tenant, other_tenant
):
    response = upload(staff, other_tenant.organization)

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Customer.objects.filter(code="ADM-1").exists()


def test_a_refused_file_shows_its_reason_on_the_form(staff, tenant):
    response = upload(staff, tenant.organization, b"displayName\nx\n")

    assert "Missing required column: customerType, currencyCode." in response.content.decode()


def test_export_action_writes_only_the_selected_customers(staff, tenant, other_tenant):
    chosen = CustomerFactory(organization=tenant.organization, display_name="Chosen")
    CustomerFactory(organization=tenant.organization, display_name="Left out")
    theirs = CustomerFactory(organization=other_tenant.organization, display_name="Theirs")

    response = staff.post(
        CHANGELIST_URL,
        {"action": "export_selected_customers", "_selected_action": [chosen.pk, theirs.pk]},
    )

    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["displayName"] for row in rows] == ["Chosen"]


def test_export_of_the_filtered_changelist_keeps_the_filter(staff, tenant):
    CustomerFactory(organization=tenant.organization, display_name="Dormant", active=False)

    response = staff.get(
        CHANGELIST_URL + "export/", {"active__exact": "0", "export_format": "json"}
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert b'"displayName": "Dormant"' in b"".join(response.streaming_content)
    assert tenant.customer.display_name.encode() not in b"".join(response.streaming_content)


def test_changelist_shows_the_import_and_export_buttons(staff):
    page = staff.get(CHANGELIST_URL).content.decode()

    assert IMPORT_URL in page
    assert "export/?&amp;export_format=xlsx" in page


def test_the_preview_shows_rows_like_the_books_customers_and_confirm_warns(staff, tenant):
    from common.actors import Actor, Door
    from customers import services

    book = services.customer_create(
        organization=tenant.organization,
        data={"customer_type": "business", "display_name": "From Admin", "currency_code": "USD"},
        actor=Actor(door=Door.COMMAND),
    )
    services.customer_update(
        organization=tenant.organization,
        customer_id=book.pk,
        changes={"email": "ops@admin.test"},
        actor=Actor(door=Door.COMMAND),
    )
    body = b"customerType,displayName,email,currencyCode\nbusiness,FROM ADMIN,OPS@admin.test,USD\n"

    preview = upload(staff, tenant.organization, body=body)
    confirmed = staff.post(IMPORT_URL, {"confirm": preview.context["preview"].token}, follow=True)

    assert 'id="import-duplicates"' in preview.content.decode()
    assert f"customer #{book.pk}" in preview.content.decode()
    assert "1 of the new customers look like others" in confirmed.content.decode()
    assert Customer.objects.filter(display_name="FROM ADMIN").exists()
