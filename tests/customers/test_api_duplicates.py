"""GET /api/customers/{id}/duplicates, GET /api/customers/duplicates, and the create's hint or
refusal (contract section 11)."""

import pytest

from customers.models import Customer, CustomerChange, CustomerSignal

from ..factories import customer_created as make

pytestmark = pytest.mark.django_db

URL = "/api/customers"


@pytest.fixture
def us(tenant):
    tenant.organization.phone_region = "US"
    tenant.organization.save()
    return tenant


def test_duplicates_of_a_customer_lists_candidates_with_score_and_reasons(us, key_client):
    acme = make(us, "Acme Corp.", email="billing@acme.test", work_phone="(415) 555-0100")
    same = make(us, "ACME Corporation", email="Billing@Acme.test ")
    phone = make(us, "Acme", personal_phone="+1 415-555-0100")
    make(us, "Initech", email="ap@initech.test")

    response = key_client.get(f"{URL}/{acme.pk}/duplicates")

    assert response.status_code == 200
    found = {entry["id"]: entry for entry in response.json()["duplicates"]}
    assert set(found) == {same.pk, phone.pk}
    assert found[same.pk]["reasons"] == ["same email", "same display name"]
    assert found[phone.pk]["reasons"] == ["same phone", "same display name"]
    assert found[same.pk]["customer"]["displayName"] == "ACME Corporation"
    scores = [entry["score"] for entry in response.json()["duplicates"]]
    assert scores == sorted(scores, reverse=True)


def test_duplicates_of_another_organizations_customer_is_404(us, other_tenant, key_client):
    response = key_client.get(f"{URL}/{other_tenant.customer.pk}/duplicates")

    assert response.status_code == 404
    assert response.json()["errors"][0]["type"] == "CUSTOMER_NOT_FOUND"


def test_other_organizations_customers_are_never_candidates(us, other_tenant, key_client):
    ours = make(us, "Acme Corp.", email="billing@acme.test")
    make(other_tenant, "Acme Corp.", email="billing@acme.test")

    assert key_client.get(f"{URL}/{ours.pk}/duplicates").json() == {"duplicates": []}
    assert key_client.get(f"{URL}/duplicates").json()["pairs"] == []


def test_duplicate_pairs_are_strongest_first_and_paginated(us, key_client):
    a = make(us, "Acme Corp.", email="billing@acme.test")
    b = make(us, "ACME Corporation", email="billing@acme.test")
    c = make(us, "Globex")
    d = make(us, "Globex Inc")

    first = key_client.get(f"{URL}/duplicates", {"pageSize": 1})
    second = key_client.get(f"{URL}/duplicates", {"pageSize": 1, "page": 2})
    past = key_client.get(f"{URL}/duplicates", {"pageSize": 1, "page": 3})

    assert first.status_code == 200
    assert first.json()["pagination"] == {"page": 1, "pageSize": 1, "total": 2}
    [pair] = first.json()["pairs"]
    assert [c["id"] for c in pair["customers"]] == [a.pk, b.pk]
    assert pair["reasons"] == ["same email", "same display name"]
    assert pair["score"] == 0.96
    [weaker] = second.json()["pairs"]
    assert [c["id"] for c in weaker["customers"]] == [c.pk, d.pk]
    assert weaker["score"] == 0.6
    assert past.json() == {"pairs": [], "pagination": {"page": 3, "pageSize": 1, "total": 2}}


def test_duplicate_pairs_refuses_a_bad_page(us, key_client):
    response = key_client.get(f"{URL}/duplicates", {"page": "x"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "page"


NEW = {
    "customerType": "business",
    "displayName": "ACME Corporation",
    "email": "BILLING@acme.test",
    "currencyCode": "USD",
}


def test_create_matching_strongly_succeeds_with_the_hint_header(us, key_client):
    acme = make(us, "Acme Corp.", email="billing@acme.test")

    response = key_client.post(URL, NEW, format="json")

    assert response.status_code == 201
    assert response["Counterpart-Possible-Duplicates"] == str(acme.pk)
    created = Customer.objects.get(pk=response.json()["id"])
    assert set(CustomerSignal.objects.filter(customer=created).values_list("kind", "value")) == {
        ("email", "billing@acme.test"),
        ("name", "acme"),
    }


def test_create_without_a_strong_match_has_no_hint_header(us, key_client):
    make(us, "Acme Corp.")  # the same name key only: listed as possible, not strong

    response = key_client.post(URL, NEW, format="json")

    assert response.status_code == 201
    assert "Counterpart-Possible-Duplicates" not in response


def test_create_with_on_duplicate_reject_is_409_listing_candidates_and_writes_nothing(
    us, key_client
):
    acme = make(us, "Acme Corp.", email="billing@acme.test")
    count, history = Customer.objects.count(), CustomerChange.objects.count()

    response = key_client.post(f"{URL}?onDuplicate=reject", NEW, format="json")

    assert response.status_code == 409
    [error] = response.json()["errors"]
    assert error["type"] == "CUSTOMER_POSSIBLE_DUPLICATE"
    assert error["candidates"] == [
        {
            "id": acme.pk,
            "displayName": "Acme Corp.",
            "score": 0.96,
            "reasons": ["same email", "same display name"],
        }
    ]
    assert (Customer.objects.count(), CustomerChange.objects.count()) == (count, history)


def test_the_organizations_setting_rejects_and_the_request_may_still_allow(us, key_client):
    make(us, "Acme Corp.", email="billing@acme.test")
    us.organization.reject_possible_duplicates = True
    us.organization.save()

    refused = key_client.post(URL, NEW, format="json")
    allowed = key_client.post(f"{URL}?on_duplicate=allow", NEW, format="json")

    assert refused.status_code == 409
    assert allowed.status_code == 201


@pytest.mark.parametrize("query", ["onDuplicate=maybe", "onDuplicate=allow&onDuplicate=reject"])
def test_a_bad_on_duplicate_is_400_and_creates_nothing(us, key_client, query):
    count = Customer.objects.count()

    response = key_client.post(f"{URL}?{query}", NEW, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "onDuplicate"
    assert Customer.objects.count() == count


def test_an_edit_of_the_email_moves_the_signal(us, key_client):
    acme = make(us, "Acme Corp.", email="billing@acme.test")

    response = key_client.patch(f"{URL}/{acme.pk}", {"email": "AP@acme.test"}, format="json")

    assert response.status_code == 200
    assert ("email", "ap@acme.test") in set(
        CustomerSignal.objects.filter(customer=acme).values_list("kind", "value")
    )
    assert not CustomerSignal.objects.filter(value="billing@acme.test").exists()


def test_an_identity_edit_leaves_exactly_the_customers_new_signals(us, key_client):
    acme = make(us, "Acme Corp.", email="billing@acme.test", code="AC-1")
    CustomerSignal.objects.create(
        organization=us.organization, customer=acme, kind="phone", value="+15550000000"
    )  # a stale one, as an earlier region would have left

    response = key_client.patch(
        f"{URL}/{acme.pk}", {"displayName": "Acme Holdings", "code": "AC-1"}, format="json"
    )

    assert response.status_code == 200
    stored = set(CustomerSignal.objects.filter(customer=acme).values_list("kind", "value"))
    assert stored == {("name", "acme holdings"), ("email", "billing@acme.test"), ("code", "ac-1")}
    renamed = key_client.patch(f"{URL}/{acme.pk}", {"email": ""}, format="json")
    assert renamed.status_code == 200
    stored = set(CustomerSignal.objects.filter(customer=acme).values_list("kind", "value"))
    assert stored == {("name", "acme holdings"), ("code", "ac-1")}


def test_a_deleted_customer_leaves_no_signals(us, key_client):
    acme = make(us, "Acme Corp.", email="billing@acme.test")

    assert key_client.delete(f"{URL}/{acme.pk}").status_code == 200
    assert not CustomerSignal.objects.filter(customer_id=acme.pk).exists()


def test_two_people_who_share_only_a_first_name_are_not_duplicates(us, key_client):
    john = make(us, "John Smith", customer_type="individual", first_name="John", last_name="Smith")
    make(us, "John Doe", customer_type="individual", first_name="John", last_name="Doe")

    assert key_client.get(f"{URL}/{john.pk}/duplicates").json() == {"duplicates": []}
    assert key_client.get(f"{URL}/duplicates").json()["pagination"]["total"] == 0


def test_a_refused_create_with_an_idempotency_key_can_be_retried_with_allow(us, key_client):
    acme = make(us, "Acme Corp.", email="billing@acme.test")

    refused = key_client.post(
        f"{URL}?onDuplicate=reject", NEW, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    allowed = key_client.post(
        f"{URL}?onDuplicate=allow", NEW, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    replayed = key_client.post(URL, NEW, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert refused.status_code == 409
    assert allowed.status_code == 201
    assert allowed["Counterpart-Possible-Duplicates"] == str(acme.pk)
    assert replayed.status_code == 201
    assert replayed.json()["id"] == allowed.json()["id"]
    assert Customer.objects.filter(display_name="ACME Corporation").count() == 1


def test_a_replayed_create_repeats_the_possible_duplicates_header(us, key_client):
    acme = make(us, "Acme Corp.", email="billing@acme.test")
    first = key_client.post(URL, NEW, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    # A second match appears after the first answer: the replay still says what the first did.
    make(us, "Acme Billing", email="Billing@acme.test")

    replayed = key_client.post(URL, NEW, format="json", HTTP_IDEMPOTENCY_KEY="k-2")

    assert first["Counterpart-Possible-Duplicates"] == str(acme.pk)
    assert replayed["Idempotent-Replayed"] == "true"
    assert replayed["Counterpart-Possible-Duplicates"] == str(acme.pk)
    assert replayed.json() == first.json()
