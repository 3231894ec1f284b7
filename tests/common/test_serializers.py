"""common.serializers.StrictInputSerializer: the one rule for which keys a body may have."""

import pytest
from rest_framework.exceptions import ValidationError

from customers.api.serializers import BulkDeleteSerializer, CustomerUpdateSerializer


def errors_of(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    with pytest.raises(ValidationError) as refused:
        serializer.is_valid(raise_exception=True)
    return refused.value.detail


@pytest.mark.parametrize("serializer_class", [BulkDeleteSerializer, CustomerUpdateSerializer])
def test_an_unknown_key_is_refused_by_name(serializer_class):
    errors = errors_of(serializer_class, {"noSuchField": 1})

    assert [error.code for error in errors["noSuchField"]] == ["unknown_field"]


def test_two_spellings_with_two_values_conflict_and_with_one_value_do_not():
    errors = errors_of(
        BulkDeleteSerializer, {"ids": [1], "skipUndeletable": True, "skip_undeletable": False}
    )
    assert str(errors["skipUndeletable"][0]) == (
        "Conflicts with skipUndeletable: send one spelling of this field."
    )

    same = BulkDeleteSerializer(
        data={"ids": [1], "skipUndeletable": True, "skip_undeletable": True}
    )
    assert same.is_valid(), same.errors
    assert same.validated_data["skipUndeletable"] is True


def test_the_customers_aliases_and_read_only_fields_follow_the_same_rule():
    errors = errors_of(
        CustomerUpdateSerializer,
        {
            "customerType": "business",
            "displayName": "A",
            "billingAddressPostcode": "1",
            "billingAddressZipcode": "2",
        },
    )
    assert list(errors) == ["billingAddressZipcode"]

    body = {"customerType": "business", "displayName": "A", "balance": 5, "display_name": "A"}
    accepted = CustomerUpdateSerializer(data=body)
    assert accepted.is_valid(), accepted.errors
    assert "balance" not in accepted.validated_data
