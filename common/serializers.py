"""Input serializers that refuse what they do not know, and say so in the OpenAPI document."""

from collections.abc import Mapping

from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError


def unknown_field_error() -> list[ErrorDetail]:
    return [ErrorDetail("Unknown field.", code="unknown_field")]


class StrictInputSerializer(serializers.Serializer):
    """A request body: a JSON object whose every key is a field (else 400 UNKNOWN_FIELD)."""

    def to_internal_value(self, data):
        if not isinstance(data, Mapping):
            raise ValidationError({"non_field_errors": ["The request body must be a JSON object."]})
        return super().to_internal_value(self.known_keys(data))

    def known_keys(self, data: Mapping) -> Mapping:
        unknown = {key: unknown_field_error() for key in data if key not in self.fields}
        if unknown:
            raise ValidationError(unknown)
        return data


class StrictInputSerializerSchema(OpenApiSerializerExtension):
    target_class = StrictInputSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        schema["additionalProperties"] = False
        return schema
