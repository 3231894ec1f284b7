"""DRF's content negotiation, its answer remembered per Accept header."""

from rest_framework.negotiation import BaseContentNegotiation, DefaultContentNegotiation

MAX_REMEMBERED = 64


class RememberedNegotiation(DefaultContentNegotiation):
    """The renderer and media type DRF picks depend only on the Accept header, a `?format=`
    override and the view's renderers, yet DRF parses and ranks the header on every request. Its
    answers to requests without an override are kept, for up to 64 distinct headers and renderer
    lists; any other request is negotiated by DRF each time, and a refusal (406) is never
    remembered."""

    _answers: dict[tuple, tuple[int, str]] = {}

    def select_renderer(self, request, renderers, format_suffix=None):
        if format_suffix or self.settings.URL_FORMAT_OVERRIDE in request.query_params:
            return super().select_renderer(request, renderers, format_suffix)
        key = (request.META.get("HTTP_ACCEPT"), tuple(type(renderer) for renderer in renderers))
        answer = self._answers.get(key)
        if answer is not None:
            position, media_type = answer
            return renderers[position], media_type
        renderer, media_type = super().select_renderer(request, renderers, format_suffix)
        if len(self._answers) < MAX_REMEMBERED:
            self._answers[key] = (renderers.index(renderer), media_type)
        return renderer, media_type


class FileDownloadNegotiation(BaseContentNegotiation):
    """For a view that answers a file, chosen by the view from the Accept header itself: DRF
    renders only its errors, always as JSON, whatever the client accepts (DRF's documented
    example of a custom negotiation)."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
