"""POST /api/api-keys/generate, GET /api/api-keys, PUT /api/api-keys/{id}/revoke (contract §7)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from common.errors import ApplicationError
from common.fields import MAX_ID
from common.schema import ERROR_RESPONSES, ORGANIZATION_HEADER, error_response
from common.views import OrganizationScopedViewSet

from . import services
from .models import ApiKey
from .permissions import ManagesOrganization
from .serializers import (
    ApiKeyChangeSerializer,
    ApiKeyGenerateSerializer,
    ApiKeySerializer,
    IssuedApiKeySerializer,
)

API_KEY_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Key id")
MANAGER_ERRORS = {
    401: ERROR_RESPONSES[401],
    403: error_response(
        "Not an owner or admin of the organization, or the credential is an API key."
    ),
    429: ERROR_RESPONSES[429],
}


class ApiKeyViewSet(OrganizationScopedViewSet):
    """The organization's API keys, managed by its owners and admins, signed in with a JWT."""

    model = ApiKey
    permission_classes = [ManagesOrganization]

    @extend_schema(
        operation_id="api_keys_list",
        summary="List the organization's API keys",
        description=(
            "Every key of the organization, newest first, revoked and expired ones included, as "
            "a JSON array (Bigcapital's shape). "
            "Not paginated: an organization holds a handful of keys, and a client auditing them "
            "wants them all. Never includes a key or its digest."
        ),
        parameters=[ORGANIZATION_HEADER],
        responses={200: ApiKeySerializer(many=True), **MANAGER_ERRORS},
    )
    def list_keys(self, request):
        api_keys = self.get_queryset().select_related("created_by")
        return Response(ApiKeySerializer(api_keys, many=True).data)

    @extend_schema(
        operation_id="api_keys_generate",
        summary="Generate an API key",
        description="The response holds the full key. It is shown this once and never again.",
        parameters=[ORGANIZATION_HEADER],
        request=ApiKeyGenerateSerializer,
        responses={
            201: IssuedApiKeySerializer,
            400: ERROR_RESPONSES[400],
            **MANAGER_ERRORS,
            415: ERROR_RESPONSES[415],
        },
    )
    def generate(self, request):
        serializer = ApiKeyGenerateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        issued = services.api_key_create(
            organization=self.organization,
            name=serializer.validated_data["name"],
            created_by=request.auth.user,
            expires_at=serializer.validated_data.get("expiresAt"),
            response_casing=serializer.validated_data["responseCasing"] or "",
        )
        body = {**ApiKeySerializer(issued.api_key).data, "key": issued.key}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="api_keys_revoke",
        summary="Revoke an API key",
        description=(
            "The key stops working on the next request. Revoking a revoked key changes nothing "
            "and answers the same."
        ),
        parameters=[ORGANIZATION_HEADER, API_KEY_ID],
        request=None,
        responses={
            200: ApiKeySerializer,
            **MANAGER_ERRORS,
            404: error_response("No such API key in this organization (API_KEY_NOT_FOUND)."),
        },
    )
    def revoke(self, request, pk):
        api_key = self._get_api_key(pk)
        services.api_key_revoke(api_key=api_key)
        return Response(ApiKeySerializer(api_key).data)

    @extend_schema(
        operation_id="api_keys_change",
        summary="Rename an API key or choose how answers to it are spelled",
        description=(
            "`name` and `responseCasing` (`camel`, `snake`, or null for the organization's "
            "setting); nothing else about a key can change."
        ),
        parameters=[ORGANIZATION_HEADER, API_KEY_ID],
        request=ApiKeyChangeSerializer,
        responses={
            200: ApiKeySerializer,
            400: ERROR_RESPONSES[400],
            **MANAGER_ERRORS,
            404: error_response("No such API key in this organization (API_KEY_NOT_FOUND)."),
            415: ERROR_RESPONSES[415],
        },
    )
    def change(self, request, pk):
        api_key = self._get_api_key(pk)
        serializer = ApiKeyChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changes = {}
        if "name" in serializer.validated_data:
            changes["name"] = serializer.validated_data["name"]
        if "responseCasing" in serializer.validated_data:
            changes["response_casing"] = serializer.validated_data["responseCasing"] or ""
        services.api_key_change(api_key=api_key, **changes)
        return Response(ApiKeySerializer(api_key).data)

    def _get_api_key(self, pk: str) -> ApiKey:
        api_key = None
        if int(pk) <= MAX_ID:
            api_key = self.get_queryset().select_related("created_by").filter(pk=pk).first()
        if api_key is None:
            raise ApplicationError(404, "API_KEY_NOT_FOUND", "No API key with this id.")
        return api_key
