"""common/fields.py: the strict text fields refuse what DRF's own validators would, and more."""

import pytest
from rest_framework import serializers

from common.fields import CurrencyCodeField, StrictCharField, StrictEmailField


def errors(field: serializers.Field, value) -> list[str]:
    with pytest.raises(serializers.ValidationError) as raised:
        field.run_validation(value)
    return [str(detail) for detail in raised.value.detail]


def test_a_lone_surrogate_is_refused_by_name():
    # JSON's "\ud800" decodes to a lone surrogate, which no database column can store.
    assert errors(StrictCharField(max_length=10), "a\ud800b") == [
        "Surrogate characters are not allowed: U+D800."
    ]
    assert errors(StrictEmailField(max_length=100), "a\udfff@example.com") == [
        "Surrogate characters are not allowed: U+DFFF."
    ]


def test_text_beyond_ascii_is_kept_within_its_limits():
    field = StrictCharField(max_length=5)

    assert field.run_validation("  Zoë ✓ ") == "Zoë ✓"
    assert errors(field, "Zoë ✓!") == ["Ensure this field has no more than 5 characters."]
    assert errors(field, "é\x00") == ["Null characters are not allowed."]


def test_ascii_text_is_checked_once_for_length_and_nul():
    field = StrictCharField(max_length=3)

    assert field.run_validation("abc") == "abc"
    assert errors(field, "abcd") == ["Ensure this field has no more than 3 characters."]
    assert errors(field, "a\x00") == ["Null characters are not allowed."]


def test_a_fields_own_validator_still_runs_on_ascii_text():
    field = CurrencyCodeField()

    assert field.run_validation("EUR") == "EUR"
    assert len(errors(field, "XYZ")) == 1
    assert errors(field, "EURO") == ["Ensure this field has no more than 3 characters."]
