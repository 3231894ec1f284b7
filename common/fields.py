"""DRF fields that take JSON types literally.

DRF's stock fields coerce: `"true"` becomes True, `123` becomes "123", `"1.5"` becomes 1.5. The
contract promises JSON types (a boolean is only true/false, money is a number), so these fields
refuse what is not already of the right type, and give the reason. The checks themselves are the
plain functions of common/values.py, which the bulk import runs too.
"""

import datetime as dt
from decimal import Decimal
from functools import partial

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common import values
from common.currencies import currency_code, iso4217_codes

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


class _Checked:
    """A DRF field whose validation is one plain function, `check`: a value of the field's JSON
    type in, the clean value out, or `InvalidValue`.

    By default the check is common/values.py's, built from the field's own limits; a caller with a
    table of rules (customers/validation.py) passes its own, so the API runs the very function the
    import and the admin run. DRF's own validators for those limits are not run again; validators
    passed explicitly are, after the check. `check` sees None only when the field allows null.
    """

    def __init__(self, *, check=None, **kwargs):
        self.explicit_validators = list(kwargs.get("validators", ()))
        super().__init__(**kwargs)
        self.check = check or self.default_check()

    def default_check(self):
        raise NotImplementedError

    def run_validation(self, data=serializers.empty):
        if data is not None or not self.allow_null:
            is_empty, value = self.validate_empty_values(data)
            if is_empty:
                return value
        try:
            value = self.check(data)
        except values.InvalidValue as error:
            raise _drf_error(error) from None
        for validator in self.explicit_validators:
            validator(value)
        return value


def _or_null(check, empty=None):
    return lambda value: empty if value is None else check(value)


class StrictCharField(_Checked, serializers.CharField):
    def __init__(self, *, empty_value="", **kwargs):
        # What null and "" mean: "" for a text column, None for a nullable one such as `code`.
        self.empty_value = empty_value
        super().__init__(**kwargs)

    def default_check(self):
        check = partial(values.text, **self.limits())
        empty = self.empty_value

        def text(value):
            return empty if value is None else check(value) or empty

        return text

    def limits(self) -> dict:
        limits = {"max_length": self.max_length if self.max_length is not None else MAX_TEXT}
        if self.min_length:
            limits["min_length"] = self.min_length
        if not self.allow_blank:
            limits["allow_blank"] = False
        return limits


@extend_schema_field(
    {"type": "string", "enum": sorted(iso4217_codes()), "description": "ISO 4217 currency code"}
)
class CurrencyCodeField(StrictCharField):
    """A real ISO 4217 code; the schema lists them, so a client can know before it sends."""

    def __init__(self, **kwargs):
        super().__init__(min_length=3, max_length=3, **kwargs)

    def default_check(self):
        return _or_null(currency_code)


class StrictEmailField(_Checked, serializers.EmailField):
    def default_check(self):
        max_length = self.max_length if self.max_length is not None else MAX_TEXT
        return _or_null(partial(values.email, max_length=max_length), "")


class StrictChoiceField(_Checked, serializers.ChoiceField):
    def default_check(self):
        return _or_null(partial(values.choice, choices=frozenset(self.choices)))


class StrictBooleanField(_Checked, serializers.BooleanField):
    def default_check(self):
        return _or_null(values.boolean)


class StrictIntegerField(_Checked, serializers.IntegerField):
    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", values.MAX_ID)
        super().__init__(**kwargs)

    def default_check(self):
        return _or_null(
            partial(values.whole_number, min_value=self.min_value, max_value=self.max_value)
        )


class StrictDecimalField(_Checked, serializers.DecimalField):
    def default_check(self):
        return _or_null(
            partial(
                values.decimal,
                max_digits=self.max_digits,
                decimal_places=self.decimal_places,
                min_value=self.min_value,
            )
        )

    def to_representation(self, value):
        return json_number(value)


class DateOrDateTimeField(_Checked, serializers.DateTimeField):
    """ISO 8601 date-time; a bare date means midnight UTC. Naive times are taken as UTC."""

    def default_check(self):
        return _or_null(values.date_or_datetime)

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


def _python_space() -> str:
    """Python's white space (what str.strip() removes) as a regex class body in \\uXXXX escapes.

    The schema's `\\s` would be ECMAScript's, which misses U+001C to U+001F and U+0085 and adds
    U+FEFF: a name of only U+001D would pass the schema and be refused as blank."""
    return "".join(f"\\u{code:04x}" for code in range(0x10000) if chr(code).isspace())


_PYTHON_SPACE = _python_space()


class StrictCharFieldSchema(OpenApiSerializerFieldExtension):
    """Text never holds NUL, and required text is not only white space: say so with a pattern."""

    target_class = StrictCharField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "request":
            schema["pattern"] = (
                r"^[^\u0000]*$"
                if self.target.allow_blank
                else rf"^[^\u0000]*[^{_PYTHON_SPACE}\u0000][^\u0000]*$"
            )
        return schema
