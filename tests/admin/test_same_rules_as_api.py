"""One definition of a valid customer: the change form refuses what the API refuses, in its words.

Values a form can carry as the API would receive them: text (names, addresses, email, code, note,
currency, customer type) and numbers (the opening balance and its exchange rate). Booleans,
date-times and branches come from widgets that cannot carry a wrong type.
"""

import pytest
from django.urls import reverse

from customers.api.serializers import CustomerUpdateSerializer, OpeningBalanceSerializer
from customers.fields import FIELDS_BY_NAME

from .forms import change_form_data

pytestmark = pytest.mark.django_db

OPENING = {"openingBalance", "openingBalanceExchangeRate"}


@pytest.mark.parametrize(
    ("field", "api_value", "posted"),
    [
        ("displayName", "x" * 256, "x" * 256),
        ("displayName", "é" * 256, "é" * 256),
        ("note", "x" * 65536, "x" * 65536),
        ("firstName", "nul\x00byte", "nul\x00byte"),
        ("email", "not-an-email", "not-an-email"),
        ("billingAddressEmail", "a@b@c", "a@b@c"),
        ("code", "c" * 256, "c" * 256),
        ("openingBalance", 12345678901.5, "12345678901.5"),
        ("openingBalance", 1.2345, "1.2345"),
        ("openingBalanceExchangeRate", 0.0000000001, "0.0000000001"),
        ("openingBalanceExchangeRate", 0, "0"),
    ],
)
def test_the_change_form_refuses_with_the_api_message(
    staff_client, tenant, field, api_value, posted
):
    serializer_class = OpeningBalanceSerializer if field in OPENING else CustomerUpdateSerializer
    body = {"openingBalance": 1, field: api_value} if field in OPENING else {field: api_value}
    serializer = serializer_class(data=body, partial=field not in OPENING)
    assert not serializer.is_valid()
    api_messages = [str(message) for message in serializer.errors[field]]
    customer, attribute = tenant.customer, FIELDS_BY_NAME[field].attribute

    response = staff_client.post(
        reverse("admin:customers_customer_change", args=[customer.pk]),
        change_form_data(customer, **{attribute: posted}),
    )

    assert response.status_code == 200  # the form again, with its errors
    assert response.context["adminform"].form.errors[attribute] == api_messages
    saved_version = customer.version
    customer.refresh_from_db()
    assert customer.version == saved_version
