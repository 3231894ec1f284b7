"""The back office's duplicate hint on create, and its side-by-side merge page."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from common.actors import Actor, Door
from customers import services
from customers.models import Customer, CustomerChange, CustomerMerge

from ..factories import customer_created
from .test_customer_admin import ADD, add_form_data

pytestmark = pytest.mark.django_db


def make(tenant, display_name, **values) -> Customer:
    return customer_created(tenant, display_name, **{"currency_code": "EUR", **values})


def merge_url(customer, **query) -> str:
    url = reverse("admin:customers_customer_merge", args=[customer.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_adding_a_strong_duplicate_creates_it_and_says_which_customer_it_looks_like(
    staff_client, tenant
):
    acme = make(tenant, "Acme Corp.", email="billing@acme.test")

    response = staff_client.post(
        ADD, add_form_data(tenant.organization, display_name="ACME", email="Billing@acme.test")
    )

    assert response.status_code == 302
    assert Customer.objects.filter(display_name="ACME").exists()
    [hint] = [m for m in get_messages(response.wsgi_request) if m.level_tag == "warning"]
    assert f"Acme Corp. (#{acme.pk}: same email" in str(hint)


def test_the_merge_page_lists_possible_duplicates(staff_client, tenant):
    acme = make(tenant, "Acme Corp.", email="billing@acme.test")
    other = make(tenant, "ACME Corporation", email="billing@acme.test")

    response = staff_client.get(merge_url(acme))

    assert response.status_code == 200
    assert f"?into={other.pk}" in response.content.decode()
    assert "same email" in response.content.decode()


def test_the_merge_page_shows_both_side_by_side_and_merges_with_the_choices(staff_client, tenant):
    source = make(tenant, "ACME Corporation", email="billing@acme.test", code="A-2")
    target = make(tenant, "Acme Corp.", code="A-1", opening_balance=Decimal(0))
    Customer.objects.filter(pk=source.pk).update(balance=Decimal("10.000"))

    page = staff_client.get(merge_url(source, into=target.pk))
    response = staff_client.post(
        merge_url(source),
        {
            "into": target.pk,
            "keep_code": "source",
            "keep_display_name": "into",
            "source_etag": page.context["source"].etag,
            "into_etag": page.context["target"].etag,
        },
    )

    assert 'id="merge-fields"' in page.content.decode()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:customers_customer_change", args=[target.pk])
    survivor = Customer.objects.get(pk=target.pk)
    assert (survivor.code, survivor.display_name, survivor.email, survivor.balance) == (
        "A-2",
        "Acme Corp.",
        "billing@acme.test",
        Decimal("10.000"),
    )
    assert not Customer.objects.filter(pk=source.pk).exists()
    assert CustomerChange.objects.filter(action="merge", door="admin").count() == 2


def test_a_stale_merge_page_merges_nothing(staff_client, tenant):
    source = make(tenant, "ACME Corporation")
    target = make(tenant, "Acme Corp.")

    response = staff_client.post(
        merge_url(source), {"into": target.pk, "source_etag": '"99"', "into_etag": target.etag}
    )

    assert response.status_code == 302
    assert not CustomerMerge.objects.exists()
    [error] = [m for m in get_messages(response.wsgi_request) if m.level_tag == "error"]
    assert "changed after you opened" in str(error)


def test_another_organizations_customer_cannot_be_merged_or_merged_into(
    staff_client, tenant, other_tenant
):
    ours = make(tenant, "Acme Corp.")
    theirs = make(other_tenant, "Acme Corp.")

    into_theirs = staff_client.post(merge_url(ours), {"into": theirs.pk})
    theirs_page = staff_client.get(merge_url(theirs))

    assert into_theirs.status_code == 200  # the page again, saying there is no such customer
    assert theirs_page.status_code == 302
    assert not CustomerMerge.objects.exists()
    assert Customer.objects.filter(pk__in=[ours.pk, theirs.pk]).count() == 2


def test_the_survivors_merge_page_undoes_a_merge(staff_client, tenant):
    source = make(tenant, "ACME Corporation", email="billing@acme.test")
    target = make(tenant, "Acme Corp.")
    services.customer_merge(
        organization=tenant.organization,
        customer_id=source.pk,
        into_id=target.pk,
        choices={},
        actor=Actor(door=Door.COMMAND),
    )
    survivor = Customer.objects.get(pk=target.pk)

    page = staff_client.get(merge_url(survivor))
    response = staff_client.post(
        merge_url(survivor), {"unmerge": source.pk, "survivor_etag": survivor.etag}
    )

    assert 'id="merged-here"' in page.content.decode()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:customers_customer_change", args=[source.pk])
    assert Customer.objects.get(pk=source.pk).email == "billing@acme.test"
    assert Customer.objects.get(pk=target.pk).email == ""
    assert CustomerChange.objects.filter(action="unmerge", door="admin").count() == 2


def test_undoing_with_a_stale_page_writes_nothing(staff_client, tenant):
    source = make(tenant, "ACME Corporation")
    target = make(tenant, "Acme Corp.")
    services.customer_merge(
        organization=tenant.organization,
        customer_id=source.pk,
        into_id=target.pk,
        choices={},
        actor=Actor(door=Door.COMMAND),
    )

    response = staff_client.post(merge_url(target), {"unmerge": source.pk, "survivor_etag": '"1"'})

    assert response.status_code == 302
    assert not Customer.objects.filter(pk=source.pk).exists()
    assert CustomerMerge.objects.get().undone_at is None
