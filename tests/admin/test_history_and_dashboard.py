"""The history of deleted customers, for owners; the dashboard on the admin's front page."""

from decimal import Decimal

from django.urls import reverse

from customers.models import CustomerChange

from ..factories import CustomerFactory

CHANGES = reverse("admin:customers_customerchange_changelist")


def delete(browser, customer):
    browser.post(reverse("admin:customers_customer_delete", args=[customer.pk]), {"post": "yes"})


def test_owner_reads_the_history_of_a_deleted_customer(staff_client, tenant):
    name = tenant.customer.display_name
    delete(staff_client, tenant.customer)

    response = staff_client.get(CHANGES, {"q": name})

    assert [change.action for change in response.context["cl"].result_list] == ["delete"]
    change = CustomerChange.objects.get(customer_id=tenant.customer.pk)
    detail = staff_client.get(reverse("admin:customers_customerchange_change", args=[change.pk]))
    assert detail.status_code == 200
    assert "Save" not in [button.strip() for button in detail.content.decode().split('value="')]


def test_history_admin_is_read_only(staff_client):
    response = staff_client.get(reverse("admin:customers_customerchange_add"))

    assert response.status_code == 403


def test_a_member_who_is_not_an_owner_sees_no_history_list_rows(
    member_client, staff_client, tenant
):
    delete(staff_client, tenant.customer)

    response = member_client.get(CHANGES)

    assert list(response.context["cl"].result_list) == []


def test_owner_never_sees_another_organizations_history(
    staff_client, superuser_client, other_tenant
):
    delete(superuser_client, other_tenant.customer)
    change = CustomerChange.objects.get(customer_id=other_tenant.customer.pk)

    listing = staff_client.get(CHANGES)
    detail = staff_client.get(reverse("admin:customers_customerchange_change", args=[change.pk]))

    assert list(listing.context["cl"].result_list) == []
    assert detail.status_code == 302
    assert detail.url == reverse("admin:index")


def test_dashboard_counts_the_users_customers_and_balances(staff_client, tenant, max_queries):
    CustomerFactory(organization=tenant.organization, active=False, balance=Decimal("12.500"))
    CustomerFactory(organization=tenant.organization, currency_code="EUR", balance=Decimal(7))

    # session, user, two of permissions, visible organizations, the two aggregates, the admin log
    with max_queries(8):
        response = staff_client.get(reverse("admin:index"))

    content = response.content.decode()
    assert "<td>3</td><td>2</td><td>1</td>" in content
    assert '<th scope="row">USD</th><td>2</td><td>12.500</td>' in content
    assert '<th scope="row">EUR</th><td>1</td><td>7.000</td>' in content
    assert "Tenant B" not in content


def test_dashboard_figures_are_reused_for_a_minute(staff_client, max_queries):
    staff_client.get(reverse("admin:index"))

    # session, user, two of permissions, visible organizations, the admin log: no aggregates
    with max_queries(6):
        staff_client.get(reverse("admin:index"))


def test_superusers_dashboard_covers_every_organization(superuser_client):
    content = superuser_client.get(reverse("admin:index")).content.decode()

    assert "Tenant A" in content
    assert "Tenant B" in content
