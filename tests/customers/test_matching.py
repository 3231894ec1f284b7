"""customers/matching.py: normalised signals and the score, without a database."""

from customers import matching
from customers.models import Customer


def person(**values) -> Customer:
    return Customer(customer_type="individual", currency_code="USD", **values)


def business(name: str, **values) -> Customer:
    return Customer(customer_type="business", currency_code="USD", display_name=name, **values)


def test_email_in_another_case_and_with_spaces_is_the_same_signal():
    a = person(display_name="Jane Roe", email="Jane.Roe@Example.com")
    b = person(display_name="J. Roe", email="  jane.roe@example.COM ")

    match = matching.compare(a, b, "US")

    assert "same email" in match.reasons
    assert match.strong


def test_the_same_phone_in_two_formats_is_the_same_e164_number():
    a = person(display_name="Jane Roe", work_phone="(415) 555-0132")
    b = person(display_name="Jane Roe", personal_phone="+1 415 555 0132")

    assert ("phone", "+14155550132") in matching.signals(a, "US")
    match = matching.compare(a, b, "US")
    assert match.reasons == ["same phone", "same display name"]
    assert match.strong


def test_without_a_region_a_national_number_is_not_a_signal():
    assert matching.phone_key("(415) 555-0132", "") == ""
    assert matching.phone_key("+44 20 7946 0958", "") == "+442079460958"
    assert matching.phone_key("call me", "US") == ""


def test_acme_corp_and_acme_corporation_share_a_name_key():
    a = business("Acme Corp.")
    b = business("ACME Corporation")

    assert matching.name_key("Acme Corp.") == matching.name_key("ACME Corporation") == "acme"
    match = matching.compare(a, b, "US")
    assert match.reasons == ["same display name"]
    assert matching.LIST_THRESHOLD <= match.score < matching.STRONG_THRESHOLD


def test_a_misspelt_company_name_is_similar_with_its_score_in_the_reason():
    match = matching.compare(business("Globex Industries"), business("Globex Industires"), "US")

    assert match.reasons[0].startswith("display name 0.")
    assert match.reasons[0].endswith("similar")
    assert match.score >= matching.LIST_THRESHOLD


def test_two_people_who_share_a_common_first_name_do_not_match():
    a = person(display_name="John Smith", first_name="John", last_name="Smith")
    b = person(display_name="John Doe", first_name="John", last_name="Doe")

    match = matching.compare(a, b, "US")

    assert match.reasons == []
    assert match.score == 0


def test_a_first_name_alone_is_not_a_name_key():
    assert "person" not in matching.names(person(display_name="Mr X", first_name="John"))


def test_codes_match_ignoring_case_and_space():
    match = matching.compare(business("A", code="C-001"), business("B", code=" c-001"), "US")

    assert match.reasons == ["same code"]
    assert match.strong
