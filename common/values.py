"""Plain checks of single values, shared by the API's strict fields and the bulk import.

Each function takes a value already of its JSON type (a string, a bool, a number), returns the
clean value, or raises `InvalidValue` with the message a client sees. The DRF fields in
common/fields.py delegate here, and so does the import, which runs these checks on millions of
rows where a serializer per row would be too slow; so there is one definition of a valid value.
"""

import datetime as dt
import re
from decimal import Decimal, DecimalException

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator, validate_email
from django.utils.dateparse import parse_date, parse_datetime

MAX_ID = 2**63 - 1
MAX_NUMBER_STRING = 1000  # longer decimal strings are refused before parsing, as DRF does


class InvalidValue(ValueError):
    def __init__(self, message: str, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.code = code


def text(value, *, max_length: int, min_length: int = 0, allow_blank: bool = True) -> str:
    """A string, trimmed; no NUL characters; its length within bounds."""
    if not isinstance(value, str):
        raise InvalidValue("Must be a string.")
    value = value.strip()
    if not value:
        if not allow_blank:
            raise InvalidValue("This field may not be blank.", "blank")
        return value
    if len(value) > max_length:
        raise InvalidValue(
            f"Ensure this field has no more than {max_length} characters.", "max_length"
        )
    if len(value) < min_length:
        raise InvalidValue(f"Ensure this field has at least {min_length} characters.", "min_length")
    if "\x00" in value:
        raise InvalidValue("Null characters are not allowed.", "null_characters_not_allowed")
    if not value.isascii() and (surrogate := _SURROGATE(value)):
        # JSON's "\ud800" decodes to a lone surrogate, which no database column can store.
        raise InvalidValue(
            f"Surrogate characters are not allowed: U+{ord(surrogate.group()):X}.",
            "surrogate_characters_not_allowed",
        )
    return value


_SURROGATE = re.compile("[\ud800-\udfff]").search


def _compiled(lazy) -> re.Pattern:
    return re.compile(lazy.pattern, lazy.flags)


# Django's own two patterns, compiled here once: its validator reaches them through lazy proxies,
# which cost more than the matching. An address both match is one Django accepts; anything else
# (a literal [IP] domain, the allowlist, every refusal) is left to `validate_email` itself.
_EMAIL_USER = _compiled(EmailValidator.user_regex).match
_EMAIL_DOMAIN = _compiled(EmailValidator.domain_regex).match
_EMAIL_MAX = 320


def email(value, *, max_length: int) -> str:
    value = text(value, max_length=max_length)
    if value:
        user, at, domain = value.rpartition("@")
        if at and len(value) <= _EMAIL_MAX and _EMAIL_USER(user) and _EMAIL_DOMAIN(domain):
            return value
        try:
            validate_email(value)
        except DjangoValidationError:
            raise InvalidValue("Enter a valid email address.") from None
    return value


def choice(value, choices: frozenset[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise InvalidValue(f'"{value}" is not a valid choice.', "invalid_choice")
    return value


def boolean(value) -> bool:
    if value is True or value is False:
        return value
    raise InvalidValue("Must be true or false.")


def whole_number(value, *, min_value: int = 1, max_value: int = MAX_ID) -> int:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise InvalidValue("Must be a whole number.")
    if isinstance(value, Decimal) and (not value.is_finite() or value != value.to_integral_value()):
        raise InvalidValue("Must be a whole number.")
    value = int(value)
    if value < min_value:
        raise _below(min_value)
    if value > max_value:
        raise InvalidValue(f"Ensure this value is less than or equal to {max_value}.", "max_value")
    return value


def decimal(
    value, *, max_digits: int, decimal_places: int, min_value: Decimal | None = None
) -> Decimal:
    """A JSON number within the column's digits and places, quantized to its places."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise InvalidValue("Must be a number.")
    if isinstance(value, float):
        value = str(value)
    try:
        number = Decimal(value)
    except DecimalException:
        raise InvalidValue("Must be a number.") from None
    if not number.is_finite():
        raise InvalidValue("Must be a number.")
    _check_precision(number, max_digits, decimal_places)
    number = number.quantize(Decimal(1).scaleb(-decimal_places))
    if min_value is not None and number < min_value:
        raise _below(min_value)
    return number


def _check_precision(number: Decimal, max_digits: int, decimal_places: int) -> None:
    _, digits, exponent = number.as_tuple()
    if exponent >= 0:
        total, whole, places = len(digits) + exponent, len(digits) + exponent, 0
    elif len(digits) > -exponent:
        total, whole, places = len(digits), len(digits) + exponent, -exponent
    else:
        total, whole, places = -exponent, 0, -exponent
    if total > max_digits:
        raise InvalidValue(
            f"Ensure that there are no more than {max_digits} digits in total.", "max_digits"
        )
    if places > decimal_places:
        raise InvalidValue(
            f"Ensure that there are no more than {decimal_places} decimal places.",
            "max_decimal_places",
        )
    if whole > max_digits - decimal_places:
        raise InvalidValue(
            "Ensure that there are no more than "
            f"{max_digits - decimal_places} digits before the decimal point.",
            "max_whole_digits",
        )


def _below(min_value) -> InvalidValue:
    return InvalidValue(f"Ensure this value is greater than or equal to {min_value}.", "min_value")


def date_or_datetime(value) -> dt.datetime:
    """ISO 8601 date-time; a bare date means midnight UTC. Naive times are taken as UTC."""
    if not isinstance(value, str):
        raise InvalidValue(DATE_OR_DATETIME_MESSAGE)
    try:
        parsed = parse_datetime(value)
        if parsed is None:
            day = parse_date(value)
            parsed = dt.datetime.combine(day, dt.time()) if day else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise InvalidValue(DATE_OR_DATETIME_MESSAGE)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=dt.UTC)
    try:
        return parsed.astimezone(dt.UTC)
    except OverflowError:  # an offset that moves it past year 1 or 9999
        raise InvalidValue(DATE_OR_DATETIME_MESSAGE) from None


DATE_OR_DATETIME_MESSAGE = (
    "Must be an ISO 8601 date (2024-01-01) or date-time (2024-01-01T00:00:00Z)."
)
