"""DRF fields that take JSON types literally.

DRF's stock fields coerce: `"true"` becomes True, `123` becomes "123", `"1.5"` becomes 1.5. The
contract promises JSON types (a boolean is only true/false, money is a number), so these fields
refuse what is not already of the right type, and give the reason. The checks themselves are the
plain functions of common/values.py, which the bulk import runs too.
"""

import datetime as dt
from decimal import Decimal

from django.core.validators import (
    EmailValidator,
    MaxLengthValidator,
    MinLengthValidator,
    ProhibitNullCharactersValidator,
)
from django.utils.functional import cached_property
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from common import values
from common.currencies import iso4217_codes, validate_currency_code

MAX_ID = values.MAX_ID
MAX_TEXT = 2**31 - 1  # a text field without its own max_length


def _drf_error(error: values.InvalidValue) -> serializers.ValidationError:
    return serializers.ValidationError(error.message, code=error.code)


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
    check = staticmethod(values.text)
    # DRF's validators that `check` repeats: it has enforced the same limits already.
    checked = (MaxLengthValidator, MinLengthValidator, ProhibitNullCharactersValidator)

    def __init__(self, *, empty_value="", **kwargs):
        # What null and "" mean: "" for a text column, None for a nullable one such as `code`.
        self.empty_value = empty_value
        super().__init__(**kwargs)

    def run_validation(self, data=serializers.empty):
        if data is None and self.allow_null:
            return self.empty_value
        is_empty, value = self.validate_empty_values(data)
        if is_empty:
            return value
        try:
            value = self.check(data, **self._limits)
        except values.InvalidValue as error:
            raise _drf_error(error) from None
        if value == "":
            return self.empty_value
        if self._more_to_check or not value.isascii():
            self.run_validators(value)
        return value

    @cached_property
    def _limits(self) -> dict:
        return self.limits()

    @cached_property
    def _more_to_check(self) -> bool:
        """Whether a validator does more than `check` did (a currency code's, say). Otherwise only
        DRF's surrogate check is left, and ASCII text has no surrogates: the validators would run
        for nothing, a third of a text field's validation."""
        done = (*self.checked, ProhibitSurrogateCharactersValidator)
        return not all(isinstance(validator, done) for validator in self.validators)

    def limits(self) -> dict:
        limits = {"max_length": self.max_length if self.max_length is not None else MAX_TEXT}
        if self.min_length:
            limits["min_length"] = self.min_length
        if not self.allow_blank:
            limits["allow_blank"] = False
        return limits


class StrictCharField(_StrictText, serializers.CharField):
    default_error_messages = {"invalid": "Must be a string."}


@extend_schema_field(
    {"type": "string", "enum": sorted(iso4217_codes()), "description": "ISO 4217 currency code"}
)
class CurrencyCodeField(StrictCharField):
    """A real ISO 4217 code; the schema lists them, so a client can know before it sends."""

    def __init__(self, **kwargs):
        super().__init__(min_length=3, max_length=3, validators=[validate_currency_code], **kwargs)


class StrictEmailField(_StrictText, serializers.EmailField):
    check = staticmethod(values.email)
    checked = (*_StrictText.checked, EmailValidator)  # values.email accepts what it accepts

    def limits(self) -> dict:
        return {"max_length": super().limits()["max_length"]}


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data):
        try:
            return values.boolean(data)
        except values.InvalidValue as error:
            raise _drf_error(error) from None


class StrictIntegerField(serializers.IntegerField):
    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", values.MAX_ID)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        try:
            return values.whole_number(data, min_value=self.min_value, max_value=self.max_value)
        except values.InvalidValue as error:
            raise _drf_error(error) from None


class StrictDecimalField(serializers.DecimalField):
    def to_internal_value(self, data):
        try:
            return values.decimal(
                data,
                max_digits=self.max_digits,
                decimal_places=self.decimal_places,
                min_value=self.min_value,
            )
        except values.InvalidValue as error:
            raise _drf_error(error) from None

    def to_representation(self, value):
        return json_number(value)


class DateOrDateTimeField(serializers.DateTimeField):
    """ISO 8601 date-time; a bare date means midnight UTC. Naive times are taken as UTC."""

    def to_internal_value(self, value):
        try:
            return values.date_or_datetime(value)
        except values.InvalidValue as error:
            raise _drf_error(error) from None

    def to_representation(self, value):
        return json_value(value)


class StrictDecimalFieldSchema(OpenApiSerializerFieldExtension):
    """Money and rates are JSON numbers with at most `decimal_places` decimals: `multipleOf` says
    so, where DRF's own mapping only gives the bounds."""

    target_class = StrictDecimalField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if self.target.decimal_places is not None:
            schema["multipleOf"] = float(Decimal(1).scaleb(-self.target.decimal_places))
        return schema


class StrictCharFieldSchema(OpenApiSerializerFieldExtension):
    """Text never holds NUL, and required text is not only white space: say so with a pattern."""

    target_class = StrictCharField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "request":
            schema["pattern"] = (
                r"^[^\u0000]*$" if self.target.allow_blank else r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
            )
        return schema
