import datetime as dt
import json
from decimal import Decimal

from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer

from common.renderers import ORJSONRenderer


def render(data) -> bytes:
    return ORJSONRenderer().render(data)


def test_whole_decimals_render_without_a_fraction_and_others_exactly():
    assert render({"a": Decimal("1500.000"), "b": Decimal("0.125")}) == b'{"a":1500,"b":0.125}'


def test_renders_what_drf_rendered_for_everything_but_decimals():
    data = {
        "text": "é and \u2028 and \u2029",
        "when": dt.datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC),
        "day": dt.date(2024, 1, 2),
        "lazy": gettext_lazy("Not found."),
        "list": [1, 1.5, None, True, {"nested": "x"}],
    }
    assert render(data) == JSONRenderer().render(data)


def test_no_data_renders_an_empty_body():
    assert render(None) == b""


def test_half_a_surrogate_pair_is_written_as_its_json_escape_and_the_rest_as_utf8():
    """What a client sent as JSON's "\\udc00" comes back quoted in an error the same way."""
    data = {"errors": [{"field": "\udc00", "message": "Unknown field: \udc00"}], "ok": "é"}

    rendered = ORJSONRenderer().render(data)

    assert rendered == (
        b'{"errors":[{"field":"\\udc00","message":"Unknown field: \\udc00"}],"ok":"\xc3\xa9"}'
    )
    assert json.loads(rendered) == data


def test_a_decimal_of_more_digits_than_a_float_holds_is_written_digit_for_digit():
    # 8310060803.928 times 6037.095900878, quantized to 3 places: 17 significant digits.
    product = Decimal("50168634015440.666")

    assert render({"a": product, "b": -product, "c": Decimal("12345678901234567.000")}) == (
        b'{"a":50168634015440.666,"b":-50168634015440.666,"c":12345678901234567}'
    )
