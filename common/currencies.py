"""ISO 4217: which three-letter codes are real currencies."""

from functools import cache

import pycountry
from django.core.exceptions import ValidationError


@cache
def iso4217_codes() -> frozenset[str]:
    return frozenset(currency.alpha_3 for currency in pycountry.currencies)


def validate_currency_code(value: str) -> None:
    if value not in iso4217_codes():
        raise ValidationError(
            "Enter a real ISO 4217 currency code of three upper-case letters, such as USD.",
            code="invalid_currency",
        )
