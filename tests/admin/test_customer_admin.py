"""The customer pages of the back office: list, search, filters, form, actions, history."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.models import Customer, CustomerChange

from ..factories import CustomerFactory, MembershipFactory, UserFactory
from .conftest import logged_in, make_staff
from .forms import change_form_data

CHANGELIST = reverse("admin:customers_customer_changelist")
ADD = reverse("admin:customers_customer_add")


def change_url(customer):
    return reverse("admin:customers_customer_change", args=[customer.pk])


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def listed(response) -> set[str]:
    return {customer.display_name for customer in response.context["cl"].result_list}


def test_changelist_shows_the_columns_of_the_users_customers(staff_client, tenant):
    response = staff_client.get(CHANGELIST)

    assert response.status_code == 200
    assert listed(response) == {tenant.customer.display_name}
    headers = [header["text"].capitalize() for header in response.context["result_headers"]]
    assert headers[1:] == [
        "Display name",
        "Company name",
        "Email",
        "Currency code",
        "Balance",
        "Active",
        "Organization",
        "Updated at",
    ]


def test_search_finds_a_customer_by_a_fragment_of_any_searched_field(staff_client, tenant):
    wanted = CustomerFactory(
        organization=tenant.organization, display_name="Zeta", work_phone="+1 555 0199"
    )

    for fragment in ("zet", "0199"):
        response = staff_client.get(CHANGELIST, {"q": fragment})
        assert listed(response) == {wanted.display_name}


def test_search_matches_the_whole_phrase_like_the_apis_search_keyword(staff_client, tenant):
    wanted = CustomerFactory(organization=tenant.organization, display_name="Acme Corp")
    CustomerFactory(organization=tenant.organization, display_name="Corp of Acme")

    assert listed(staff_client.get(CHANGELIST, {"q": "  acme corp "})) == {wanted.display_name}


def test_search_never_finds_another_organizations_customer(staff_client, other_tenant):
    response = staff_client.get(CHANGELIST, {"q": other_tenant.customer.display_name})

    assert response.status_code == 200
    assert listed(response) == set()
    assert change_url(other_tenant.customer) not in response.content.decode()


def test_filtering_to_another_organization_shows_nothing_of_it(staff_client, other_tenant):
    response = staff_client.get(
        CHANGELIST, {"organization__id__exact": other_tenant.organization.pk}
    )

    assert other_tenant.customer.display_name not in response.content.decode()


def test_organization_filter_offers_only_the_users_organizations(
    staff_client, staff, tenant, other_tenant
):
    second = MembershipFactory(user=staff, organization__name="Second").organization

    response = staff_client.get(CHANGELIST)

    [organization_filter] = [
        spec for spec in response.context["cl"].filter_specs if spec.title == "organization"
    ]
    assert [name for _, name in organization_filter.lookup_choices] == [
        second.name,
        tenant.organization.name,
    ]
    assert other_tenant.organization.name not in response.content.decode()


def test_filters_by_active_type_and_currency(staff_client, tenant):
    euro = CustomerFactory(organization=tenant.organization, currency_code="EUR", active=False)

    assert listed(staff_client.get(CHANGELIST, {"currency_code": "EUR"})) == {euro.display_name}
    assert listed(staff_client.get(CHANGELIST, {"active__exact": "0"})) == {euro.display_name}
    assert listed(staff_client.get(CHANGELIST, {"customer_type__exact": "individual"})) == set()


def test_superuser_sees_every_organizations_customers(superuser_client, tenant, other_tenant):
    response = superuser_client.get(CHANGELIST)

    assert listed(response) == {tenant.customer.display_name, other_tenant.customer.display_name}


def test_changelist_query_count_does_not_grow_with_the_page(staff_client, tenant, max_queries):
    CustomerFactory.create_batch(30, organization=tenant.organization)

    # session, user, two of permissions, visible organizations, organization and currency
    # choices, count (with its EXPLAIN on PostgreSQL), page: the same for 31 rows as for 1
    with max_queries(10):
        response = staff_client.get(CHANGELIST)
    assert len(response.context["cl"].result_list) == 31


@pytest.mark.parametrize("page", ["change", "history", "delete"])
def test_another_organizations_customer_by_url_is_answered_as_missing(
    staff_client, other_tenant, page
):
    url = reverse(f"admin:customers_customer_{page}", args=[other_tenant.customer.pk])

    response = staff_client.get(url)

    assert response.status_code == 302
    assert response.url == reverse("admin:index")
    assert other_tenant.customer.display_name not in str(messages_of(response))


def test_posting_to_another_organizations_customer_changes_nothing(staff_client, other_tenant):
    customer = other_tenant.customer

    response = staff_client.post(change_url(customer), change_form_data(customer, email="x@y.z"))

    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.email == ""
    assert customer.version == 1


def test_change_form_groups_fields_and_shows_balances_read_only(staff_client, tenant):
    response = staff_client.get(change_url(tenant.customer))

    names = [fieldset.name for fieldset in response.context["adminform"]]
    assert names == [
        "Contact",
        "Billing address",
        "Shipping address",
        "Opening balance",
        "Notes",
        "Record",
        "Recent changes",
    ]
    form = response.context["adminform"].form
    assert {"balance", "version", "created_at", "updated_at"}.isdisjoint(form.fields)
    assert form.initial["loaded_version"] == 1
    content = response.content.decode()
    assert "data-copy-billing-to-shipping" in content
    assert "customers/admin/copy_billing_to_shipping.js" in content


def test_editing_the_billing_address_goes_through_the_service_and_records_history(
    staff_client, staff, tenant
):
    customer = tenant.customer

    response = staff_client.post(
        change_url(customer), change_form_data(customer, billing_address_city="Lyon")
    )

    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.billing_address_city == "Lyon"
    assert customer.version == 2
    change = CustomerChange.objects.get(customer_id=customer.pk)
    assert (change.action, change.door, change.actor_user) == ("update", "admin", staff)
    assert change.changes == {"billingAddressCity": ["", "Lyon"]}


def test_a_save_from_a_stale_form_is_refused_and_writes_nothing(staff_client, tenant):
    customer = tenant.customer
    stale = change_form_data(customer, email="mine@example.com")
    staff_client.post(change_url(customer), change_form_data(customer, email="theirs@example.com"))

    response = staff_client.post(change_url(customer), stale)

    assert response.status_code == 302
    assert response.url == change_url(customer)
    assert "Someone else changed this customer" in " ".join(messages_of(response))
    customer.refresh_from_db()
    assert (customer.email, customer.version) == ("theirs@example.com", 2)
    assert CustomerChange.objects.filter(customer_id=customer.pk).count() == 1


def test_an_invalid_email_is_a_form_error(staff_client, tenant):
    customer = tenant.customer

    response = staff_client.post(change_url(customer), change_form_data(customer, email="nope"))

    assert response.status_code == 200
    assert "email" in response.context["adminform"].form.errors
    customer.refresh_from_db()
    assert customer.email == ""


def test_a_code_taken_in_the_organization_is_a_form_error(staff_client, tenant):
    CustomerFactory(organization=tenant.organization, code="C-1")

    response = staff_client.post(
        change_url(tenant.customer), change_form_data(tenant.customer, code="C-1")
    )

    assert response.context["adminform"].form.errors["code"] == [
        "Another customer of this organization already has this code."
    ]


def test_opening_balance_is_changed_through_its_own_service(staff_client, tenant):
    customer = tenant.customer
    data = change_form_data(
        customer,
        opening_balance="250.000",
        opening_balance_at_0="2024-01-01",
        opening_balance_at_1="00:00:00",
        opening_balance_branch=tenant.branch.pk,
        display_name="Renamed",
    )

    staff_client.post(change_url(customer), data)

    customer.refresh_from_db()
    assert (customer.opening_balance, customer.balance) == (Decimal(250), Decimal(250))
    assert customer.display_name == "Renamed"
    actions = CustomerChange.objects.filter(customer_id=customer.pk).values_list(
        "action", flat=True
    )
    assert sorted(actions) == ["opening_balance", "update"]


def test_a_branch_of_another_organization_is_refused(staff_client, tenant, other_tenant):
    data = change_form_data(tenant.customer, opening_balance_branch=other_tenant.branch.pk)

    response = staff_client.post(change_url(tenant.customer), data)

    assert "opening_balance_branch" in response.context["adminform"].form.errors
    tenant.customer.refresh_from_db()
    assert tenant.customer.opening_balance_branch_id is None


def test_unticking_active_inactivates_through_the_service(staff_client, tenant):
    data = change_form_data(tenant.customer)
    del data["active"]

    staff_client.post(change_url(tenant.customer), data)

    tenant.customer.refresh_from_db()
    assert tenant.customer.active is False
    assert CustomerChange.objects.get(customer_id=tenant.customer.pk).action == "inactivate"


def add_form_data(organization, **overrides):
    return {
        "organization": organization.pk,
        "currency_code": "EUR",
        "customer_type": "individual",
        "display_name": "Ada",
        "active": "on",
        "opening_balance": "0",
        "opening_balance_exchange_rate": "1",
        **overrides,
    }


def test_adding_a_customer_goes_through_customer_create(staff_client, tenant):
    response = staff_client.post(ADD, add_form_data(tenant.organization))

    assert response.status_code == 302
    customer = Customer.objects.get(display_name="Ada")
    assert (customer.organization, customer.currency_code) == (tenant.organization, "EUR")
    assert CustomerChange.objects.get(customer_id=customer.pk).action == "create"


def test_adding_a_customer_to_another_organization_is_refused(staff_client, other_tenant):
    response = staff_client.post(ADD, add_form_data(other_tenant.organization))

    assert "organization" in response.context["adminform"].form.errors
    assert not Customer.objects.filter(display_name="Ada").exists()


def test_organization_autocomplete_lists_only_the_users_organizations(staff_client, tenant):
    response = staff_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "customers", "model_name": "customer", "field_name": "organization"},
    )

    assert [row["text"] for row in response.json()["results"]] == [tenant.organization.name]


def test_deleting_goes_through_the_service_and_keeps_the_history(staff_client, tenant):
    customer = tenant.customer
    url = reverse("admin:customers_customer_delete", args=[customer.pk])

    response = staff_client.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not Customer.objects.filter(pk=customer.pk).exists()
    assert CustomerChange.objects.get(customer_id=customer.pk).action == "delete"


def test_deleting_a_customer_with_transactions_is_refused(staff_client, tenant):
    customer = tenant.customer
    Customer.objects.filter(pk=customer.pk).update(balance=Decimal(10))
    url = reverse("admin:customers_customer_delete", args=[customer.pk])

    response = staff_client.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert "has transactions" in " ".join(messages_of(response))
    assert Customer.objects.filter(pk=customer.pk).exists()


def run_action(browser, action, *customers):
    return browser.post(
        CHANGELIST, {"action": action, "_selected_action": [c.pk for c in customers]}, follow=True
    )


def test_inactivate_action_reports_each_customer_already_inactive(staff_client, tenant):
    idle = CustomerFactory(organization=tenant.organization, active=False, display_name="Idle")

    response = run_action(staff_client, "inactivate", tenant.customer, idle)

    text = " ".join(messages_of(response))
    assert f"Inactivated 1 customer(s): {tenant.customer.display_name}." in text
    assert "Idle (CONTACT_ALREADY_INACTIVE)" in text
    assert not Customer.objects.filter(organization=tenant.organization, active=True).exists()


def test_activate_action_reports_each_customer_already_active(staff_client, tenant):
    idle = CustomerFactory(organization=tenant.organization, active=False, display_name="Idle")

    response = run_action(staff_client, "activate", tenant.customer, idle)

    text = " ".join(messages_of(response))
    assert "Activated 1 customer(s): Idle." in text
    assert "(CONTACT_ALREADY_ACTIVE)" in text
    assert CustomerChange.objects.get(customer_id=idle.pk).action == "activate"


def test_actions_never_touch_another_organizations_customer(staff_client, other_tenant):
    run_action(staff_client, "inactivate", other_tenant.customer)

    other_tenant.customer.refresh_from_db()
    assert other_tenant.customer.active is True


def test_delete_selected_is_not_offered(staff_client):
    response = staff_client.get(CHANGELIST)

    choices = {name for name, _ in response.context["action_form"].fields["action"].choices}
    assert {"activate", "inactivate"} <= choices
    assert "delete_selected" not in choices


def test_history_shows_who_changed_what_newest_first(staff_client, staff, tenant):
    customer = tenant.customer
    staff_client.post(change_url(customer), change_form_data(customer, email="a@example.com"))
    customer.refresh_from_db()
    staff_client.post(change_url(customer), change_form_data(customer, email="b@example.com"))

    response = staff_client.get(reverse("admin:customers_customer_history", args=[customer.pk]))

    content = response.content.decode()
    assert content.index("a@example.com → b@example.com") < content.index("— → a@example.com")
    assert staff.email in content
    form_page = staff_client.get(change_url(customer)).content.decode()
    assert "a@example.com → b@example.com" in form_page


def test_currency_filter_offers_only_the_currencies_of_the_users_customers(
    staff_client, tenant, other_tenant
):
    CustomerFactory(organization=tenant.organization, currency_code="EUR")
    CustomerFactory(organization=other_tenant.organization, currency_code="JPY")

    response = staff_client.get(CHANGELIST)

    [currency_filter] = [
        spec for spec in response.context["cl"].filter_specs if spec.title == "currency"
    ]
    assert [code for code, _ in currency_filter.lookup_choices] == ["EUR", "USD"]


def test_staff_of_no_organization_see_no_customers(other_tenant):
    browser = logged_in(make_staff(UserFactory()))

    response = browser.get(CHANGELIST)

    assert response.status_code == 200
    assert listed(response) == set()
    assert "Tenant B" not in browser.get(reverse("admin:index")).content.decode()


@pytest.mark.django_db(transaction=True)  # as the admin's list pages run: in autocommit
def test_search_results_come_newest_first_and_rare_matches_skip_the_key_walk(staff_client, tenant):
    older = CustomerFactory(organization=tenant.organization, display_name="Zorro One")
    newer = CustomerFactory(organization=tenant.organization, display_name="Zorro Two")

    with CaptureQueriesContext(connection) as queries:
        response = staff_client.get(CHANGELIST, {"q": "zorro"})

    assert list(response.context["cl"].result_list) == [newer, older]
    if connection.vendor == "postgresql":  # the planner's estimate says "few rows"
        [page] = [q["sql"] for q in queries if "LIKE" in q["sql"] and "ORDER BY" in q["sql"]]
        assert 'ORDER BY ("customers_customer"."id" + 0) DESC' in page


def test_a_view_only_member_reads_the_customer_but_cannot_save(tenant, other_tenant):
    reader = UserFactory(is_staff=True)
    reader.user_permissions.set(Permission.objects.filter(codename="view_customer"))
    MembershipFactory(organization=tenant.organization, user=reader)
    browser = logged_in(reader)

    page = browser.get(change_url(tenant.customer))
    response = browser.post(change_url(tenant.customer), change_form_data(tenant.customer))

    assert page.status_code == 200
    assert tenant.customer.display_name in page.content.decode()
    assert response.status_code == 403
    assert not CustomerChange.objects.exists()


def test_an_undated_opening_balance_is_refused_in_the_services_words(staff_client, tenant):
    data = change_form_data(tenant.customer, opening_balance="250", opening_balance_at="")

    response = staff_client.post(change_url(tenant.customer), data)

    assert response.context["adminform"].form.errors["opening_balance_at"] == [
        "Required when openingBalance is not zero."
    ]
    tenant.customer.refresh_from_db()
    assert tenant.customer.opening_balance == 0
