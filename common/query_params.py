"""Query parameters read strictly: both spellings, no repeats, no unknown names.

The contract takes every list parameter in camelCase or snake_case and answers a bad value with
400, never by ignoring it. A serializer declares the camelCase names; `read_query_params` maps the
query string onto them first, refusing what it cannot place.
"""

import functools
import re

from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError

from .fields import MAX_ID


def _to_snake(name: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z0-9])", "_", name).lower()


class QueryIntegerField(serializers.IntegerField):
    """Digits only: `1.0`, `+1`, ` 1` and `1e3` are refused rather than guessed at."""

    default_error_messages = {"invalid": "Must be a whole number."}

    def __init__(self, **kwargs):
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str) or not data.isascii() or not data.isdigit():
            self.fail("invalid")
        if len(data) > len(str(MAX_ID)):
            self.fail("max_value", max_value=self.max_value)
        return super().to_internal_value(data)


@functools.cache
def _spellings(serializer_class) -> dict[str, str]:
    names = serializer_class().fields
    return {spelling: name for name in names for spelling in (name, _to_snake(name))}


def read_query_params(serializer_class, query_params) -> dict:
    """Validate a QueryDict with `serializer_class`, whose fields are the camelCase names."""
    spellings = _spellings(serializer_class)
    canonical, errors = {}, {}
    for key in query_params:
        name = spellings.get(key)
        values = query_params.getlist(key)
        if name is None:
            errors[key] = [ErrorDetail("Unknown query parameter.", code="unknown_field")]
        elif len(values) > 1 or name in canonical:
            errors[name] = [ErrorDetail("Send this parameter once.", code="invalid")]
        else:
            canonical[name] = values[0]
    if errors:
        raise ValidationError(errors)
    serializer = serializer_class(data=canonical)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
