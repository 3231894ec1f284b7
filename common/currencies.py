"""ISO 4217: which three-letter codes are real currencies."""

from functools import cache

import pycountry
from django.core.exceptions import ValidationError

from common import values


@cache
def iso4217_codes() -> frozenset[str]:
    return frozenset(currency.alpha_3 for currency in pycountry.currencies)


def validate_currency_code(value: str) -> None:
    if value not in iso4217_codes():
        raise ValidationError(
            "Enter a real ISO 4217 currency code of three upper-case letters, such as USD.",
            code="invalid_currency",
        )


def currency_code(value) -> str:
    """The plain check (common/values.py's way) of a currency code: a string of a real code."""
    value = values.text(value, max_length=3, min_length=3, allow_blank=False)
    try:
        validate_currency_code(value)
    except ValidationError as error:
        raise values.InvalidValue(error.messages[0], "invalid_currency") from None
    return value
