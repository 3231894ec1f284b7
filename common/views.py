from urllib.parse import unquote_to_bytes

from django.http import JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, viewsets

from .errors import json_error_response

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class OrganizationScopedViewSet(viewsets.GenericViewSet):
    """Base for every tenant resource: the queryset is always the request organization's rows.

    Subclasses name `model`; they cannot forget the scope: `get_queryset` and `scoped_queryset`
    are final (a subclass that overrides either, or sets a `queryset`, is refused when its class
    is created), and the organization comes from the credential (`request.auth`), never from the
    request body. A view that truly needs other rows says so by defining
    `dangerously_get_queryset`, which then replaces the scoped queryset.
    """

    model = None
    _FINAL = ("get_queryset", "scoped_queryset")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in cls._FINAL:
            if getattr(cls, name) is not getattr(OrganizationScopedViewSet, name):
                raise TypeError(
                    f"{cls.__qualname__} overrides {name}(), which would bypass the organization "
                    "scope. Define dangerously_get_queryset() if the view must see other rows."
                )
        if cls.queryset is not None:
            raise TypeError(
                f"{cls.__qualname__} sets queryset, which is not scoped: name the model instead."
            )

    def get_queryset(self):
        unscoped = getattr(self, "dangerously_get_queryset", None)
        if unscoped is not None:
            return unscoped()
        return self.scoped_queryset()

    def scoped_queryset(self):
        return self.model.objects.filter(organization=self.request.auth.organization)

    @property
    def organization(self):
        return self.request.auth.organization

    def check_permissions(self, request):
        # DRF checks throttles after permissions (APIView.initial). A request a permission refuses
        # is counted by the throttles all the same, and answered 429 over the limit: every
        # authenticated request counts, whatever its answer.
        try:
            super().check_permissions(request)
        except exceptions.PermissionDenied:
            self.check_throttles(request)
            raise

    def initial(self, request, *args, **kwargs):
        if request.method in _BODY_METHODS and _has_body(request) and not request.content_type:
            raise exceptions.UnsupportedMediaType("", detail="Send the body as application/json.")
        super().initial(request, *args, **kwargs)
        if not _is_utf8(request.META.get("QUERY_STRING", "")):
            # Django would decode the bytes it cannot read into U+FFFD and search for those.
            raise exceptions.ValidationError(["The query string is not valid UTF-8."])


def _has_body(request) -> bool:
    length = request.META.get("CONTENT_LENGTH") or "0"
    return not (length.isdigit() and int(length) == 0)


def _is_utf8(query_string: str) -> bool:
    """WSGI hands the query string over as Latin-1; its percent-decoded bytes must be UTF-8."""
    try:
        unquote_to_bytes(query_string.encode("iso-8859-1")).decode("utf-8")
    except UnicodeError:
        return False
    return True


@csrf_exempt
def api_not_found(request, *args, **kwargs) -> JsonResponse:
    return json_error_response(404, "NOT_FOUND", "No API route matches this path.")


def bad_request(request, exception, *args, **kwargs):
    """What Django answers itself with 400: a request it will not read (more query or form
    fields than DATA_UPLOAD_MAX_NUMBER_FIELDS, a disallowed host, …)."""
    if request.path.startswith("/api/"):
        message = "The request cannot be read: too many query parameters, or a malformed request."
        return json_error_response(400, "VALIDATION_ERROR", message)
    return defaults.bad_request(request, exception, *args, **kwargs)


def server_error(request, *args, **kwargs):
    if request.path.startswith("/api/"):
        return json_error_response(500, "INTERNAL_ERROR", "Something went wrong on our side.")
    return defaults.server_error(request, *args, **kwargs)


def page_not_found(request, exception, *args, **kwargs):
    if request.path.startswith("/api/"):
        return api_not_found(request)
    return defaults.page_not_found(request, exception, *args, **kwargs)
