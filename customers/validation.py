"""What a valid value of each customer field is: one rule per field, used by every door.

A field's rule is its kind's plain check (common/values.py) with its column's limits (the model's
`max_length`, digits and places): `check(field)` is that function. The API's input fields run it
(customers/api/serializers.py passes it as their `check`), the bulk import runs it per cell, and
the admin's form runs it as each field's validator; `limits(field)` are the same limits for the
OpenAPI document. The cross-field rules (opening balance, branch) stay in customers/services.py.
"""

import functools
from collections.abc import Callable
from functools import partial

from common import values
from common.currencies import currency_code

from .fields import CustomerField, Kind
from .models import MIN_RATE, Customer

CUSTOMER_TYPES = frozenset(Customer.CustomerType.values)

NULLABLE = frozenset({Kind.TEXT, Kind.EMAIL, Kind.NOTE, Kind.CODE, Kind.DATETIME, Kind.BRANCH})
"""Kinds where the API takes null: "" for text, NULL for code, date-time and branch."""

TEXT_KINDS = frozenset({Kind.NAME, Kind.TEXT, Kind.EMAIL, Kind.NOTE, Kind.CODE})


def limits(field: CustomerField) -> dict:
    """The field's limits, from its column: what the check enforces and the schema states."""
    column = Customer._meta.get_field(field.attribute)
    if field.kind in TEXT_KINDS:
        return {"max_length": column.max_length}
    if field.kind is Kind.AMOUNT:
        return {"max_digits": column.max_digits, "decimal_places": column.decimal_places}
    if field.kind is Kind.RATE:
        return {
            "max_digits": column.max_digits,
            "decimal_places": column.decimal_places,
            "min_value": MIN_RATE,
        }
    return {}


def _code(value, *, max_length: int) -> str | None:
    return values.text(value, max_length=max_length) or None


_KIND_CHECKS: dict[Kind, Callable] = {
    Kind.NAME: partial(values.text, allow_blank=False),
    Kind.TEXT: values.text,
    Kind.EMAIL: values.email,
    Kind.NOTE: values.text,
    Kind.CODE: _code,
    Kind.CUSTOMER_TYPE: partial(values.choice, choices=CUSTOMER_TYPES),
    Kind.BOOLEAN: values.boolean,
    Kind.CURRENCY: currency_code,
    Kind.AMOUNT: values.decimal,
    Kind.RATE: values.decimal,
    Kind.DATETIME: values.date_or_datetime,
    Kind.BRANCH: values.whole_number,
}


@functools.cache
def check(field: CustomerField) -> Callable:
    """The one check of a writable field: a value of its JSON type (or None, where the API takes
    null) in, the clean value out, or `InvalidValue` with the message every door shows."""
    kind_check = _KIND_CHECKS[field.kind]
    field_limits = limits(field)
    checked = partial(kind_check, **field_limits) if field_limits else kind_check
    if field.kind not in NULLABLE:
        return checked
    empty = "" if field.kind in (Kind.TEXT, Kind.EMAIL, Kind.NOTE) else None

    def nullable(value):
        return empty if value is None else checked(value)

    return nullable
