"""Customer input and output serializers, built from the field table in customers/fields.py."""

import functools
import operator

from django.core.exceptions import ImproperlyConfigured
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from common.fields import (
    CurrencyCodeField,
    DateOrDateTimeField,
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictDecimalField,
    StrictEmailField,
    StrictIntegerField,
)
from common.serializers import FieldsBuiltOnce, StrictInputSerializer
from customers import validation
from customers.fields import (
    FIELDS,
    FIELDS_BY_NAME,
    INPUT_SPELLINGS,
    Access,
    CustomerField,
    Kind,
    writable,
)
from customers.models import AMOUNT, RATE, Customer


def _source(spec: CustomerField) -> dict:
    # DRF refuses a `source` equal to the field name, so name it only where the two differ.
    return {"source": spec.attribute} if spec.attribute != spec.name else {}


_INPUT_FIELD_CLASSES = {
    Kind.NAME: StrictCharField,
    Kind.TEXT: StrictCharField,
    Kind.EMAIL: StrictEmailField,
    Kind.NOTE: StrictCharField,
    Kind.CODE: StrictCharField,
    Kind.CUSTOMER_TYPE: StrictChoiceField,
    Kind.BOOLEAN: StrictBooleanField,
    Kind.CURRENCY: CurrencyCodeField,
    Kind.AMOUNT: StrictDecimalField,
    Kind.RATE: StrictDecimalField,
    Kind.DATETIME: DateOrDateTimeField,
    Kind.BRANCH: StrictIntegerField,
}
"""Each kind's DRF field: its JSON type in the OpenAPI document. What it accepts is the field's
rule in customers/validation.py, which the field runs as its `check`."""


def _input_field(spec: CustomerField, name: str, *, required: bool) -> serializers.Field:
    description = (
        spec.description
        if name == spec.name
        else f"The same as `{spec.name}`, in Bigcapital's documented spelling."
    )
    options = {
        **_source(spec),
        **validation.limits(spec),
        "required": required,
        "help_text": description,
        "check": validation.check(spec),
    }
    if spec.kind in validation.NULLABLE:
        options["allow_null"] = True
    if spec.kind in (Kind.TEXT, Kind.EMAIL, Kind.NOTE, Kind.CODE):
        options["allow_blank"] = True
    if spec.kind is Kind.CUSTOMER_TYPE:
        options["choices"] = Customer.CustomerType.choices
    if spec.kind not in _INPUT_FIELD_CLASSES:
        raise ValueError(f"{spec.name} of kind {spec.kind} cannot be written")
    return _INPUT_FIELD_CLASSES[spec.kind](**options)


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


class CustomerInputSerializer(FieldsBuiltOnce, StrictInputSerializer):
    # Turns a request body into {model attribute: clean value}. Before the fields run, every key
    # is brought to its camelCase spelling; read-only fields are dropped (a client may send back
    # what it read), and unknown ones are refused by name.

    mode = "update"

    def spellings(self) -> dict:
        return _spellings(type(self))


@functools.cache
def _spellings(serializer_class: type) -> dict[str, tuple[str, str] | None]:
    """Every input key → (the name this serializer reports it under, its field's name), or None
    for a field this serializer does not write."""
    accepted = serializer_class().fields
    return {
        key: (name, field.name) if name in accepted else None
        for key, (field, name) in INPUT_SPELLINGS.items()
    }


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


OPENING_BALANCE_FIELDS = (
    "openingBalance",
    "openingBalanceAt",
    "openingBalanceExchangeRate",
    "openingBalanceBranchId",
)


OpeningBalanceSerializer = extend_schema_serializer(component_name="CustomerOpeningBalance")(
    type(
        "OpeningBalanceSerializer",
        (CustomerInputSerializer,),
        {
            "__doc__": "The opening balance; the receivable balance moves by the difference.",
            **{
                name: _input_field(FIELDS_BY_NAME[name], name, required=name == "openingBalance")
                for name in OPENING_BALANCE_FIELDS
            },
        },
    )
)


BULK_MAX_IDS = 1000


def _ids_field() -> serializers.ListField:
    return serializers.ListField(
        child=StrictIntegerField(),
        allow_empty=False,
        min_length=1,
        max_length=BULK_MAX_IDS,
        help_text=f"Customer ids, at most {BULK_MAX_IDS}.",
    )


@extend_schema_serializer(component_name="CustomerBulkDelete")
class BulkDeleteSerializer(StrictInputSerializer):
    """Bigcapital's BulkDeleteCustomersDto: the customers to delete (or to check), all or none
    unless skipUndeletable."""

    ids = _ids_field()
    skipUndeletable = StrictBooleanField(
        required=False,
        default=False,
        help_text="Delete the deletable customers and skip the rest, rather than none at all. "
        "Taken by validate-bulk-delete too, where it changes nothing.",
    )

    def validate_ids(self, ids):
        return list(dict.fromkeys(ids))


@extend_schema_serializer(component_name="CustomerBulkDeleteCheck")
class BulkDeleteCheckSerializer(serializers.Serializer):
    deletableCount = serializers.IntegerField()
    nonDeletableCount = serializers.IntegerField()
    deletableIds = serializers.ListField(child=serializers.IntegerField())
    nonDeletableIds = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Customers with transactions, and ids of no customer of this organization.",
    )


@extend_schema_serializer(component_name="CustomerBulkDeleteResult")
class BulkDeleteResultSerializer(serializers.Serializer):
    deletedIds = serializers.ListField(child=serializers.IntegerField())


@extend_schema_serializer(component_name="CustomerDeleted")
class DeletedSerializer(serializers.Serializer):
    id = serializers.IntegerField()


def _output_plan(serializer: serializers.Serializer) -> tuple:
    """(name, attribute reader, to_representation) of each of the serializer's own fields."""
    plan = []
    for field in serializer.fields.values():
        if field.write_only:
            continue
        if len(field.source_attrs) != 1:
            raise ImproperlyConfigured(f"{field.field_name}: one attribute of the customer, please")
        plan.append(
            (field.field_name, operator.attrgetter(field.source_attrs[0]), field.to_representation)
        )
    return tuple(plan)


# CustomerSerializer's fields, built once (DRF deep-copies a serializer's 40 fields whenever it is
# instantiated) and read without DRF's generic attribute walk (callables, dotted sources,
# dictionaries, skipped fields: none of which a customer has).
_CUSTOMER_OUTPUT = _output_plan(CustomerSerializer())


def customer_data(customer: Customer) -> dict:
    """The customer as the API shows it: CustomerSerializer(customer).data, the same fields' own
    to_representation; None stays None, as DRF leaves it."""
    data = {}
    for name, read, represent in _CUSTOMER_OUTPUT:
        value = read(customer)
        data[name] = None if value is None else represent(value)
    return data
