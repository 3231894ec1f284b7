"""JSON in, read strictly and within a size limit; and file uploads, within theirs.

Numbers with a fraction become Decimal, so money is exact from the first byte. NaN, Infinity,
duplicate keys, invalid UTF-8 and nesting too deep for the interpreter are malformed JSON, not
a crash. (Half of a surrogate pair, JSON's `"\\ud800"`, is JSON but not text: a text field
refuses it by name, common/values.py; `reject_lone_surrogates` is for JSON no field reads.)
"""

import json
import re
from decimal import Decimal

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser, MultiPartParser

from .errors import PayloadTooLarge


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def _unique_keys(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


# A surrogate can reach a decoded string only through a \uD800-\uDFFF escape: UTF-8 has none.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def reject_lone_surrogates(data, text: str | None = None) -> None:
    """ValueError if a string of `data`, decoded from JSON (`text`, when there is one to look at
    first), holds half of a surrogate pair (an escaped pair is one character once decoded)."""
    if text is not None and not _SURROGATE_ESCAPE.search(text):
        return
    strings, pending = [], [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            strings.append(item)
        elif isinstance(item, dict):
            strings.extend(item)  # keys are strings
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    try:
        "".join(strings).encode("utf-8")  # any surrogate code point fails, paired or not
    except UnicodeEncodeError:
        raise ValueError("a \\u escape names half of a surrogate pair") from None


def loads_strict(text: str):
    return json.loads(
        text,
        parse_float=Decimal,
        parse_constant=_reject_constant,
        object_pairs_hook=_unique_keys,
    )


class StrictJSONParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
        try:
            return loads_strict(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise ParseError("The request body is not valid UTF-8.") from None
        except RecursionError:
            raise ParseError("The JSON is nested too deeply.") from None
        except ValueError as error:
            raise ParseError(f"Malformed JSON: {error}") from None


class UploadParser(MultiPartParser):
    """A multipart form with a file, refused by its declared size before a byte is read:
    `API_MAX_UPLOAD_BYTES`. (Django reads a WSGI request body only up to its Content-Length, so
    the declared size is the most that can arrive.)"""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_UPLOAD_BYTES
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge(f"The upload is larger than {limit} bytes.")
        try:
            return super().parse(stream, media_type, parser_context)
        except ParseError as error:
            raise ParseError(
                f"The upload is not a valid multipart form: {error.detail}",
                code="malformed_request",
            ) from None
