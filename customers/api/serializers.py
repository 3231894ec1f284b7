"""Customer input and output serializers, built from the field table in customers/fields.py."""

import functools
from collections.abc import Mapping
from decimal import Decimal

from django.utils.functional import cached_property
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError

from common.currencies import validate_currency_code
from common.fields import (
    DateOrDateTimeField,
    StrictBooleanField,
    StrictCharField,
    StrictDecimalField,
    StrictEmailField,
    StrictIntegerField,
)
from customers.fields import FIELDS, INPUT_SPELLINGS, Access, CustomerField, Kind, writable
from customers.models import AMOUNT, RATE, Customer

TEXT_MAX = 255
NOTE_MAX = 65535
MIN_RATE = Decimal("0.000000001")


def _source(spec: CustomerField) -> dict:
    # DRF refuses a `source` equal to the field name, so name it only where the two differ.
    return {"source": spec.attribute} if spec.attribute != spec.name else {}


def _input_field(spec: CustomerField, name: str, *, required: bool) -> serializers.Field:
    description = (
        spec.description
        if name == spec.name
        else f"The same as `{spec.name}`, in Bigcapital's documented spelling."
    )
    options = {**_source(spec), "required": required, "help_text": description}
    text = {"allow_blank": True, "allow_null": True, **options}
    match spec.kind:
        case Kind.NAME:
            return StrictCharField(max_length=TEXT_MAX, **options)
        case Kind.TEXT:
            return StrictCharField(max_length=TEXT_MAX, **text)
        case Kind.EMAIL:
            return StrictEmailField(max_length=TEXT_MAX, **text)
        case Kind.NOTE:
            return StrictCharField(max_length=NOTE_MAX, **text)
        case Kind.CODE:
            return StrictCharField(max_length=TEXT_MAX, empty_value=None, **text)
        case Kind.CUSTOMER_TYPE:
            return serializers.ChoiceField(choices=Customer.CustomerType.choices, **options)
        case Kind.BOOLEAN:
            return StrictBooleanField(**options)
        case Kind.CURRENCY:
            return StrictCharField(
                min_length=3, max_length=3, validators=[validate_currency_code], **options
            )
        case Kind.AMOUNT:
            return StrictDecimalField(**AMOUNT, **options)
        case Kind.RATE:
            return StrictDecimalField(**RATE, min_value=MIN_RATE, **options)
        case Kind.DATETIME:
            return DateOrDateTimeField(allow_null=True, **options)
        case Kind.BRANCH:
            return StrictIntegerField(allow_null=True, **options)
    raise ValueError(f"{spec.name} of kind {spec.kind} cannot be written")


def _output_field(spec: CustomerField) -> serializers.Field:
    options = {**_source(spec), "read_only": True, "help_text": spec.description}
    match spec.kind:
        case Kind.ID | Kind.BRANCH:
            return serializers.IntegerField(allow_null=spec.kind is Kind.BRANCH, **options)
        case Kind.BOOLEAN:
            return serializers.BooleanField(**options)
        case Kind.AMOUNT:
            return StrictDecimalField(**AMOUNT, **options)
        case Kind.RATE:
            return StrictDecimalField(**RATE, **options)
        case Kind.DATETIME:
            return DateOrDateTimeField(allow_null=spec.name == "openingBalanceAt", **options)
        case Kind.CUSTOMER_TYPE:
            return serializers.ChoiceField(choices=Customer.CustomerType.choices, **options)
        case Kind.CODE:
            return serializers.CharField(allow_null=True, **options)
    return serializers.CharField(**options)


class CustomerInputSerializer(serializers.Serializer):
    # Turns a request body into {model attribute: clean value}. Before the fields run, every key
    # is brought to its camelCase spelling; read-only fields are dropped (a client may send back
    # what it read), and unknown ones are refused by name.

    mode = "update"

    @cached_property
    def fields(self):
        return _bound_input_fields(type(self), self.partial)

    def to_internal_value(self, data):
        if not isinstance(data, Mapping):
            raise ValidationError({"non_field_errors": ["The request body must be a JSON object."]})
        return super().to_internal_value(self._canonical_keys(data))

    def _canonical_keys(self, data: Mapping) -> dict:
        accepted = self.fields
        canonical, seen, errors = {}, {}, {}
        for key, value in data.items():
            spelling = INPUT_SPELLINGS.get(key)
            if spelling is None:
                errors[key] = [ErrorDetail("Unknown field.", code="unknown_field")]
                continue
            field, name = spelling
            if name not in accepted:
                continue  # read-only here: ignored, so a GET body can be sent back as is
            if field.name in seen and seen[field.name][1] != value:
                errors[name] = [
                    ErrorDetail(
                        f"Conflicts with {seen[field.name][0]}: send one spelling of this field.",
                        code="invalid",
                    )
                ]
                continue
            seen.setdefault(field.name, (key, value))
            if not any(other in canonical for other in field.input_names):
                canonical[name] = value
        if errors:
            raise ValidationError(errors)
        return canonical


@functools.cache
def _bound_input_fields(serializer_class: type, partial: bool):
    # DRF deep-copies every declared field for each serializer it builds: a tenth of a PUT's time.
    # The fields keep no per-request state, so each input serializer class builds them once, bound
    # to a template that holds no data; what they ask of their serializer (`root.partial`, an
    # empty context) is the same for every request with the same `partial`.
    template = serializer_class(partial=partial)
    return serializers.Serializer.fields.func(template)


def _input_serializer(
    class_name: str, component: str, mode: str, doc: str
) -> type[serializers.Serializer]:
    access = "on_create" if mode == "create" else "on_update"
    fields = {
        name: _input_field(spec, name, required=getattr(spec, access) is Access.REQUIRED)
        for spec in writable(mode)
        for name in spec.input_names
    }
    serializer = type(
        class_name, (CustomerInputSerializer,), {"__doc__": doc, "mode": mode, **fields}
    )
    return extend_schema_serializer(component_name=component)(serializer)


CustomerCreateSerializer = _input_serializer(
    "CustomerCreateSerializer", "CustomerCreate", "create", "A new customer."
)
CustomerUpdateSerializer = _input_serializer(
    "CustomerUpdateSerializer",
    "CustomerUpdate",
    "update",
    "Changes to a customer. Fields left out keep their stored values; `null` clears a text field.",
)


CustomerSerializer = extend_schema_serializer(component_name="Customer")(
    type(
        "CustomerSerializer",
        (serializers.Serializer,),
        {"__doc__": "A customer.", **{spec.name: _output_field(spec) for spec in FIELDS}},
    )
)

# Built once: a serializer's fields are deep-copied from the class on every instantiation, which
# cost a fifth of a GET. Its to_representation keeps no per-call state, so one instance serves all.
_CUSTOMER_OUTPUT = CustomerSerializer()


def customer_data(customer: Customer) -> dict:
    """The customer as the API shows it: CustomerSerializer(customer).data, fields built once."""
    return _CUSTOMER_OUTPUT.to_representation(customer)
