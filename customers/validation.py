"""What a valid value of each customer field is, by its kind in the field table.

The API's input serializers build their strict fields with these limits, and those fields delegate
to the same plain functions of common/values.py; the bulk import calls `checker(field)` directly,
a plain function per column, because a serializer per row is too slow for millions of rows.
The cross-field rules stay in customers/services.py.
"""

from collections.abc import Callable
from decimal import Decimal
from functools import partial

from django.core.exceptions import ValidationError as DjangoValidationError

from common import values
from common.currencies import validate_currency_code

from .fields import CustomerField, Kind
from .models import AMOUNT, RATE, Customer

TEXT_MAX = 255
NOTE_MAX = 65535
MIN_RATE = Decimal("0.000000001")
CUSTOMER_TYPES = frozenset(Customer.CustomerType.values)


def currency(value) -> str:
    value = values.text(value, max_length=3, min_length=3, allow_blank=False)
    try:
        validate_currency_code(value)
    except DjangoValidationError as error:
        raise values.InvalidValue(error.messages[0], "invalid_currency") from None
    return value


def _code(value) -> str | None:
    return values.text(value, max_length=TEXT_MAX) or None


CHECKS: dict[Kind, Callable] = {
    Kind.NAME: partial(values.text, max_length=TEXT_MAX, allow_blank=False),
    Kind.TEXT: partial(values.text, max_length=TEXT_MAX),
    Kind.EMAIL: partial(values.email, max_length=TEXT_MAX),
    Kind.NOTE: partial(values.text, max_length=NOTE_MAX),
    Kind.CODE: _code,
    Kind.CUSTOMER_TYPE: partial(values.choice, choices=CUSTOMER_TYPES),
    Kind.BOOLEAN: values.boolean,
    Kind.CURRENCY: currency,
    Kind.AMOUNT: partial(values.decimal, **AMOUNT),
    Kind.RATE: partial(values.decimal, **RATE, min_value=MIN_RATE),
    Kind.DATETIME: values.date_or_datetime,
    Kind.BRANCH: values.whole_number,
}

NULLABLE = frozenset({Kind.TEXT, Kind.EMAIL, Kind.NOTE, Kind.CODE, Kind.DATETIME, Kind.BRANCH})
"""Kinds where the API takes null: "" for text, NULL for code, date-time and branch."""


def checker(field: CustomerField) -> Callable:
    """The plain check of one writable field: a value of its JSON type in, a clean value out."""
    check = CHECKS[field.kind]
    if field.kind not in NULLABLE:
        return check
    empty = None if field.kind in (Kind.CODE, Kind.DATETIME, Kind.BRANCH) else ""

    def nullable(value):
        return empty if value is None else check(value)

    return nullable
