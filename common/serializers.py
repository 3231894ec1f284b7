"""Input serializers that refuse what they do not know, and say so in the OpenAPI document."""

import functools
from collections.abc import Mapping

from django.utils.functional import cached_property
from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.utils.serializer_helpers import BindingDict

from .naming import to_snake


def unknown_field_error() -> list[ErrorDetail]:
    return [ErrorDetail("Unknown field.", code="unknown_field")]


class FieldsBuiltOnce(serializers.Serializer):
    """A serializer whose fields are built once per class (and `partial`), not per instance.

    DRF deep-copies every declared field for each serializer it builds (`get_fields()`), and the
    deep copy costs more than validating a body. Only for fields that keep no per-request state and
    ask their serializer for nothing but `partial`: they are bound, as DRF's `fields` binds them, to
    a template that holds no data and an empty context, the same for every request.
    """

    @cached_property
    def fields(self):
        return _bound_fields(type(self), self.partial)

    def run_validators(self, value):
        # DRF first gathers every read-only field's default for the serializer's own validators,
        # a walk over all the fields; a serializer without validators has no use for them.
        if self.validators:
            super().run_validators(value)


@functools.cache
def _bound_fields(serializer_class: type, partial: bool):
    template = serializer_class(partial=partial)
    fields = BindingDict(template)
    for name, field in template.get_fields().items():
        fields[name] = field
    return fields


class StrictInputSerializer(serializers.Serializer):
    """A request body: a JSON object whose every key is a field (else 400 UNKNOWN_FIELD).

    Fields are declared in camelCase and also taken in snake_case, as Bigcapital's server takes
    both; one field sent in two spellings with two values is an error. This is the one place that
    decides which keys a body may have: a serializer with other spellings (the customer's
    aliases, its read-only fields) says which in `spellings()`.
    """

    def to_internal_value(self, data):
        if not isinstance(data, Mapping):
            raise ValidationError({"non_field_errors": ["The request body must be a JSON object."]})
        return super().to_internal_value(self.known_keys(data))

    def spellings(self) -> Mapping[str, tuple[str, str] | None]:
        """Every key a body may have → (the name it is validated and reported under, the field it
        names), or None for a key taken and ignored."""
        return _declared_spellings(type(self), tuple(self.fields))

    def known_keys(self, data: Mapping) -> dict:
        spellings = self.spellings()
        canonical, seen, errors = {}, {}, {}
        for key, value in data.items():
            spelling = spellings.get(key, _UNKNOWN)
            if spelling is _UNKNOWN:
                errors[key] = unknown_field_error()
                continue
            if spelling is None:
                continue
            name, field = spelling
            first = seen.get(field)
            if first is None:
                seen[field] = (key, value)
                canonical[name] = value
            elif first[1] != value:
                errors[name] = [
                    ErrorDetail(
                        f"Conflicts with {first[0]}: send one spelling of this field.",
                        code="invalid",
                    )
                ]
        if errors:
            raise ValidationError(errors)
        return canonical


_UNKNOWN = object()


@functools.cache
def _declared_spellings(serializer_class: type, names: tuple[str, ...]) -> dict:
    return {spelling: (name, name) for name in names for spelling in (name, to_snake(name))}


class StrictInputSerializerSchema(OpenApiSerializerExtension):
    target_class = StrictInputSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        schema["additionalProperties"] = False
        return schema
