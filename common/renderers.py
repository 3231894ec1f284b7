"""JSON out with orjson: the same bytes as DRF's compact UTF-8 JSONRenderer, several times faster.

Types orjson does not know (lazy translations, …) and date-times go through DRF's own encoder, so
they read as before; Decimal becomes the contract's exact number (common.fields.json_number: 1500,
not 1500.0). U+2028 and U+2029 stay escaped, as DRF escapes them for JavaScript's sake. Half of a
surrogate pair, which a client can send as JSON's `"\\ud800"` and an error quotes back, is
written as that escape (orjson writes only valid UTF-8, and refuses it).
"""

import json
from decimal import Decimal

import orjson
from rest_framework.renderers import BaseRenderer
from rest_framework.utils.encoders import JSONEncoder

from .fields import json_number
from .naming import to_snake

_drf_encoder = JSONEncoder()


# A float's shortest repr holds a decimal's digits exactly up to 15 significant digits: every
# stored amount (13,3) and rate (13,9). A product of the two (localOpeningBalance) can have 17.
FLOAT_EXACT_DIGITS = 15


def _default(value):
    if isinstance(value, Decimal):
        if len(value.as_tuple().digits) > FLOAT_EXACT_DIGITS and value != value.to_integral():
            return orjson.Fragment(str(value.normalize()))  # the digits themselves
        return json_number(value)
    return _drf_encoder.default(value)


SNAKE = "snake"


def _wants_snake_case(renderer_context) -> bool:
    """A successful answer to a credential that asked for snake_case keys (the credential says so
    in its `response_casing`; authkeys.authentication.Principal). Errors keep the contract's
    envelope whatever the credential."""
    if not renderer_context:
        return False
    response, request = renderer_context.get("response"), renderer_context.get("request")
    if response is None or request is None or response.status_code >= 400:
        return False
    return getattr(request.auth, "response_casing", None) == SNAKE


def snake_case_keys(data):
    """Every object key in `data` in snake_case (`displayName` → `display_name`, `filterMeta` →
    `filter_meta`), as Bigcapital's live server answers; values are left as they are."""
    if isinstance(data, dict):
        return {to_snake(key): snake_case_keys(value) for key, value in data.items()}
    if isinstance(data, list):
        return [snake_case_keys(item) for item in data]
    return data


def _surrogates_escaped(data):
    """`data` with each string that is not valid Unicode (a lone surrogate in it) replaced by
    its JSON text, \\u escapes and all."""
    if isinstance(data, dict):
        return {key: _surrogates_escaped(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_surrogates_escaped(item) for item in data]
    if isinstance(data, str):
        try:
            data.encode("utf-8")
        except UnicodeEncodeError:
            return orjson.Fragment(json.dumps(data))
    return data


class ORJSONRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None  # JSON is UTF-8 by definition (RFC 8259); DRF's renderer says the same

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        if _wants_snake_case(renderer_context):
            data = snake_case_keys(data)
        try:
            rendered = orjson.dumps(data, default=_default, option=orjson.OPT_PASSTHROUGH_DATETIME)
        except orjson.JSONEncodeError:
            rendered = orjson.dumps(
                _surrogates_escaped(data), default=_default, option=orjson.OPT_PASSTHROUGH_DATETIME
            )
        return rendered.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
