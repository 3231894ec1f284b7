"""DRF fields that take JSON types literally.

DRF's stock fields coerce: `"true"` becomes True, `123` becomes "123", `"1.5"` becomes 1.5. The
contract promises JSON types (a boolean is only true/false, money is a number), so these fields
refuse what is not already of the right type, and give the reason.
"""

import datetime as dt
from decimal import Decimal

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from rest_framework import serializers

MAX_ID = 2**63 - 1


def json_number(value: Decimal | None) -> int | float | None:
    """A decimal as a JSON number: 1500 rather than 1500.000.

    Safe for amounts (13,3) and rates (13,9): with at most 15 significant digits the shortest float
    repr is the decimal's own digits, so no client sees a rounding artefact.
    """
    if value is None:
        return None
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def json_value(value):
    """A stored value in the API's JSON form: exact numbers, UTC date-times ending in Z."""
    if isinstance(value, Decimal):
        return json_number(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return value


class _StrictText:
    def __init__(self, *, empty_value="", **kwargs):
        # What null and "" mean: "" for a text column, None for a nullable one such as `code`.
        self.empty_value = empty_value
        super().__init__(**kwargs)

    def run_validation(self, data=serializers.empty):
        if data is None and self.allow_null:
            return self.empty_value
        if data is not serializers.empty and data is not None and not isinstance(data, str):
            self.fail("invalid")
        value = super().run_validation(data)
        return self.empty_value if value == "" else value


class StrictCharField(_StrictText, serializers.CharField):
    default_error_messages = {"invalid": "Must be a string."}


class StrictEmailField(_StrictText, serializers.EmailField):
    pass


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if data is True or data is False:
            return data
        self.fail("invalid")


class StrictIntegerField(serializers.IntegerField):
    default_error_messages = {"invalid": "Must be a whole number."}

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | Decimal):
            self.fail("invalid")
        if isinstance(data, Decimal) and data != data.to_integral_value():
            self.fail("invalid")
        return int(data)


class StrictDecimalField(serializers.DecimalField):
    default_error_messages = {"invalid": "Must be a number."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float | Decimal):
            self.fail("invalid")
        return super().to_internal_value(Decimal(str(data)) if isinstance(data, float) else data)

    def to_representation(self, value):
        return json_number(value)


class DateOrDateTimeField(serializers.DateTimeField):
    """ISO 8601 date-time; a bare date means midnight UTC. Naive times are taken as UTC."""

    default_error_messages = {
        "invalid": "Must be an ISO 8601 date (2024-01-01) or date-time (2024-01-01T00:00:00Z)."
    }

    def to_internal_value(self, value):
        if not isinstance(value, str):
            self.fail("invalid")
        try:
            parsed = parse_datetime(value)
            if parsed is None:
                day = parse_date(value)
                parsed = dt.datetime.combine(day, dt.time()) if day else None
        except ValueError:
            parsed = None
        if parsed is None:
            self.fail("invalid")
        if timezone.is_naive(parsed):
            parsed = parsed.replace(tzinfo=dt.UTC)
        return parsed.astimezone(dt.UTC)

    def to_representation(self, value):
        return json_value(value)
