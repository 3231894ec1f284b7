"""common/negotiation.py answers as DRF's negotiation does, the first time and every time after."""

import pytest
from django.http import Http404
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from common.negotiation import RememberedNegotiation
from common.renderers import ORJSONRenderer

ACCEPTS = [
    None,
    "*/*",
    "application/json",
    "application/json, text/plain, */*",
    "application/*; q=0.5",
    "text/html, */*; q=0.1",
    "application/json; indent=4",
]


def negotiate(negotiation, accept: str | None, query: str = "", renderers=(ORJSONRenderer,)):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(APIRequestFactory().get(f"/api/customers{query}", **headers))
    instances = [renderer() for renderer in renderers]
    renderer, media_type = negotiation.select_renderer(request, instances)
    return type(renderer), media_type


@pytest.mark.parametrize("renderers", [(ORJSONRenderer,), (ORJSONRenderer, BrowsableAPIRenderer)])
@pytest.mark.parametrize("accept", ACCEPTS)
def test_the_same_answer_as_drf_the_first_time_and_after(accept, renderers):
    expected = negotiate(DefaultContentNegotiation(), accept, renderers=renderers)
    for _ in range(3):
        assert negotiate(RememberedNegotiation(), accept, renderers=renderers) == expected


def test_an_unacceptable_header_is_refused_every_time():
    for _ in range(2):
        with pytest.raises(NotAcceptable):
            negotiate(RememberedNegotiation(), "text/html")


def test_a_format_override_is_negotiated_by_drf_each_time():
    negotiate(RememberedNegotiation(), None)  # remembered without an override
    with pytest.raises(Http404):
        negotiate(RememberedNegotiation(), None, query="?format=xml")
