"""Input serializers that refuse what they do not know, and say so in the OpenAPI document."""

from collections.abc import Mapping

from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError

from .naming import to_snake


def unknown_field_error() -> list[ErrorDetail]:
    return [ErrorDetail("Unknown field.", code="unknown_field")]


class StrictInputSerializer(serializers.Serializer):
    """A request body: a JSON object whose every key is a field (else 400 UNKNOWN_FIELD).

    Fields are declared in camelCase and also taken in snake_case, as Bigcapital's server takes
    both; one field sent in both spellings is an error.
    """

    def to_internal_value(self, data):
        if not isinstance(data, Mapping):
            raise ValidationError({"non_field_errors": ["The request body must be a JSON object."]})
        return super().to_internal_value(self.known_keys(data))

    def known_keys(self, data: Mapping) -> Mapping:
        spellings = {spelling: name for name in self.fields for spelling in (name, to_snake(name))}
        canonical, errors = {}, {}
        for key, value in data.items():
            name = spellings.get(key)
            if name is None:
                errors[key] = unknown_field_error()
            elif name in canonical:
                errors[name] = [ErrorDetail("Send one spelling of this field.", code="invalid")]
            else:
                canonical[name] = value
        if errors:
            raise ValidationError(errors)
        return canonical


class StrictInputSerializerSchema(OpenApiSerializerExtension):
    target_class = StrictInputSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        schema["additionalProperties"] = False
        return schema
