"""GET /api/customers (contract section 6) and GET /api/customers/{id}/history."""

from datetime import UTC, datetime, timedelta

import pytest

from customers.models import Customer, CustomerChange
from tests.conftest import access_token
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

URL = "/api/customers"


def names(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [customer["displayName"] for customer in response.json()["customers"]]


@pytest.fixture
def abc(tenant):
    """Three more customers; the tenant's own customer is renamed to sort first."""
    Customer.objects.filter(pk=tenant.customer.pk).update(display_name="Aardvark")
    return [
        CustomerFactory(organization=tenant.organization, display_name=name, **extra)
        for name, extra in [
            ("Beta", {"email": "beta@shop.example", "active": False}),
            ("Gamma", {"company_name": "Shop Ltd"}),
            ("Delta", {"code": "SHOP-9", "work_phone": "+1 555 0100"}),
        ]
    ]


def test_default_is_newest_first_in_pages_of_twelve(tenant, key_client, abc):
    response = key_client.get(URL)

    assert names(response) == ["Delta", "Gamma", "Beta", "Aardvark"]
    assert response.json()["pagination"] == {"page": 1, "pageSize": 12, "total": 4}
    assert response.json()["filterMeta"] == {
        "columnSortBy": "createdAt",
        "sortOrder": "DESC",
        "searchKeyword": None,
    }


def test_one_requests_parameters_do_not_carry_over_to_the_next(tenant, key_client, abc):
    # The parameters' fields are built once per process and shared by every request.
    sorted_ = key_client.get(f"{URL}?columnSortBy=displayName&sortOrder=ASC&pageSize=2&page=2")
    refused = key_client.get(f"{URL}?sortOrder=sideways")
    default = key_client.get(URL)

    assert names(sorted_) == ["Delta", "Gamma"]
    assert refused.status_code == 400
    assert names(default) == ["Delta", "Gamma", "Beta", "Aardvark"]
    assert default.json()["pagination"] == {"page": 1, "pageSize": 12, "total": 4}
    assert default.json()["filterMeta"]["sortOrder"] == "DESC"


@pytest.mark.parametrize(
    "query",
    [
        "columnSortBy=displayName&sortOrder=ASC",
        "column_sort_by=display_name&sort_order=asc",
    ],
)
def test_sorting_in_both_spellings(tenant, key_client, abc, query):
    response = key_client.get(f"{URL}?{query}")

    assert names(response) == ["Aardvark", "Beta", "Delta", "Gamma"]
    assert response.json()["filterMeta"]["columnSortBy"] == "displayName"
    assert response.json()["filterMeta"]["sortOrder"] == "ASC"


@pytest.mark.parametrize("query", ["searchKeyword=SHOP", "search_keyword=shop"])
def test_search_matches_name_email_company_code_case_insensitively(tenant, key_client, abc, query):
    response = key_client.get(f"{URL}?{query}&columnSortBy=displayName&sortOrder=ASC")

    assert names(response) == ["Beta", "Delta", "Gamma"]
    assert response.json()["pagination"]["total"] == 3
    assert response.json()["filterMeta"]["searchKeyword"].lower() == "shop"


def test_search_matches_phones_and_names(tenant, key_client, abc):
    assert names(key_client.get(f"{URL}?searchKeyword=555 01")) == ["Delta"]
    assert names(key_client.get(f"{URL}?searchKeyword=ardv")) == ["Aardvark"]


def test_search_treats_like_wildcards_literally(tenant, key_client, abc):
    assert names(key_client.get(f"{URL}?searchKeyword=%25")) == []
    assert names(key_client.get(f"{URL}?searchKeyword=_")) == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("inactiveMode=true", ["Beta"]),
        ("inactive_mode=false", ["Delta", "Gamma", "Aardvark"]),
    ],
)
def test_inactive_mode(tenant, key_client, abc, query, expected):
    assert names(key_client.get(f"{URL}?{query}")) == expected


@pytest.mark.parametrize("param", ["updatedSince", "updated_since"])
def test_updated_since(tenant, key_client, abc, param):
    Customer.objects.exclude(display_name="Gamma").update(
        updated_at=datetime(2020, 1, 1, tzinfo=UTC)
    )

    assert names(key_client.get(f"{URL}?{param}=2021-01-01")) == ["Gamma"]


@pytest.mark.parametrize("spelling", ["pageSize", "page_size"])
def test_pages_never_repeat_or_skip_a_row_even_when_sort_values_tie(tenant, key_client, spelling):
    CustomerFactory.create_batch(6, organization=tenant.organization, display_name="Same")
    Customer.objects.update(created_at=datetime(2024, 1, 1, tzinfo=UTC))
    expected = list(Customer.objects.order_by("-id").values_list("id", flat=True))

    seen = []
    for page in (1, 2, 3, 4, 5):
        response = key_client.get(f"{URL}?{spelling}=2&page={page}")
        seen += [customer["id"] for customer in response.json()["customers"]]

    assert seen == expected
    assert response.json()["customers"] == []
    assert response.json()["pagination"] == {"page": 5, "pageSize": 2, "total": 7}


def test_the_query_bigcapitals_web_client_sends_is_understood(tenant, key_client, abc):
    query = (
        "viewSlug=&stringifiedFilterRoles=[]&page=1&pageSize=12&columnSortBy=display_name"
        "&sortOrder=desc&inactiveMode=false&searchKeyword="
    )

    response = key_client.get(f"{URL}?{query}")

    assert names(response) == ["Gamma", "Delta", "Aardvark"]
    assert response.json()["filterMeta"] == {
        "columnSortBy": "displayName",
        "sortOrder": "DESC",
        "searchKeyword": None,
    }


@pytest.mark.parametrize(
    "query",
    [
        'stringifiedFilterRoles=[{"fieldKey":"active"}]',
        "viewSlug=overdue",
        "viewSlug=nonsense",
        "customViewId=3",
        "page=0",
        "page=abc",
        "page=1.0",
        "pageSize=501",
        "pageSize=0",
        "columnSortBy=note",
        "columnSortBy=organization",
        "sortOrder=up",
        "inactiveMode=yes",
        "updatedSince=yesterday",
        "searchKeyword=a%00b",
        "page=1&page=2",
        "pageSize=5&page_size=6",
        "nonsense=1",
        "page=99999999999999999999999",
    ],
)
def test_a_bad_parameter_is_400_never_ignored(tenant, key_client, query):
    response = key_client.get(f"{URL}?{query}")

    assert response.status_code == 400
    assert response.json()["errors"][0]["statusCode"] == 400


@pytest.mark.parametrize("sort", ["balance", "closingBalance", "code", "openingBalanceAt", "id"])
def test_every_sortable_field_sorts(tenant, key_client, abc, sort):
    assert len(names(key_client.get(f"{URL}?columnSortBy={sort}&sortOrder=ASC"))) == 4


def test_a_page_of_500_costs_at_most_3_queries_with_an_api_key(tenant, key_client, max_queries):
    CustomerFactory.create_batch(499, organization=tenant.organization)
    key_client.get(URL)  # warm up: lastUsedAt is written once a minute

    with max_queries(3):
        response = key_client.get(f"{URL}?pageSize=500&searchKeyword=a")
    with max_queries(3):
        response = key_client.get(f"{URL}?pageSize=500")

    assert len(response.json()["customers"]) == 500


def test_a_page_of_500_costs_at_most_3_queries_with_a_jwt(tenant, client, max_queries):
    CustomerFactory.create_batch(499, organization=tenant.organization)
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {access_token(tenant.owner)}",
        HTTP_ORGANIZATION_ID=str(tenant.organization.pk),
    )

    with max_queries(3):
        response = client.get(f"{URL}?page_size=500")

    assert len(response.json()["customers"]) == 500


def history(key_client, customer, query=""):
    return key_client.get(f"{URL}/{customer.pk}/history{query}")


def test_history_is_newest_first_with_door_actor_and_changes(tenant, key_client):
    customer = tenant.customer
    key_client.patch(f"{URL}/{customer.pk}", {"note": "first"}, format="json")
    key_client.post(f"{URL}/{customer.pk}/inactivate")

    response = history(key_client, customer)

    assert response.status_code == 200
    entries = response.json()["history"]
    assert [entry["action"] for entry in entries] == ["inactivate", "update"]
    assert entries[1]["changes"] == {"note": {"old": "", "new": "first"}}
    assert entries[0]["changes"] == {"active": {"old": True, "new": False}}
    assert entries[0]["door"] == "api"
    api_key = tenant.api_key
    assert entries[0]["actor"] == {
        "userId": tenant.owner.pk,
        "userEmail": tenant.owner.email,
        "apiKeyId": api_key.pk,
        "apiKeyName": api_key.name,
        "apiKeyPrefix": api_key.prefix,
    }
    assert api_key.digest not in response.content.decode()
    assert entries[0]["createdAt"].endswith("Z")
    assert response.json()["pagination"] == {"page": 1, "pageSize": 12, "total": 2}


def test_history_through_a_jwt_names_the_user_and_no_key(tenant, jwt_client):
    jwt_client.patch(f"{URL}/{tenant.customer.pk}", {"note": "x"}, format="json")

    [entry] = jwt_client.get(f"{URL}/{tenant.customer.pk}/history/").json()["history"]

    assert entry["actor"]["userEmail"] == tenant.owner.email
    assert entry["actor"]["apiKeyId"] is None


def test_history_is_paginated_in_both_spellings(tenant, key_client):
    for n in range(5):
        key_client.patch(f"{URL}/{tenant.customer.pk}", {"note": str(n)}, format="json")

    first = history(key_client, tenant.customer, "?pageSize=2").json()
    last = history(key_client, tenant.customer, "?page_size=2&page=3").json()

    assert [e["changes"]["note"]["new"] for e in first["history"]] == ["4", "3"]
    assert [e["changes"]["note"]["new"] for e in last["history"]] == ["0"]
    assert last["pagination"]["total"] == 5


def test_history_of_a_deleted_customer_is_404(tenant, key_client):
    key_client.delete(f"{URL}/{tenant.customer.pk}")

    response = history(key_client, tenant.customer)

    assert response.status_code == 404
    assert response.json()["errors"][0]["type"] == "CUSTOMER_NOT_FOUND"
    assert CustomerChange.objects.filter(customer_id=tenant.customer.pk).exists()


def test_history_with_a_bad_page_is_400(tenant, key_client):
    assert history(key_client, tenant.customer, "?page=x").status_code == 400


def test_history_of_one_customer_shows_no_other_customers_changes(tenant, key_client):
    other = CustomerFactory(organization=tenant.organization)
    key_client.patch(f"{URL}/{other.pk}", {"note": "other"}, format="json")
    old = datetime.now(UTC) - timedelta(days=1)
    CustomerChange.objects.update(created_at=old)

    assert history(key_client, tenant.customer).json()["history"] == []
