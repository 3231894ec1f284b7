"""OpenAPI pieces every API view shares."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

ORGANIZATION_HEADER = OpenApiParameter(
    "organization-id",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "Required if Authorization is a JWT token. The organization ID to operate within. "
        "With an API key it may be left out; if sent, it must be the key's organization."
    ),
)

ErrorEnvelope = inline_serializer(
    "ErrorEnvelope",
    {
        "errors": serializers.ListField(
            child=inline_serializer(
                "Error",
                {
                    "statusCode": serializers.IntegerField(),
                    "type": serializers.CharField(),
                    "message": serializers.CharField(),
                    "field": serializers.CharField(required=False),
                    "mergedInto": serializers.IntegerField(
                        required=False,
                        help_text="CUSTOMER_MERGED: the id of the customer it was merged into.",
                    ),
                    "candidates": serializers.ListField(
                        required=False,
                        child=serializers.DictField(),
                        help_text="CUSTOMER_POSSIBLE_DUPLICATE: the existing customers it "
                        "matches (id, displayName, score, reasons).",
                    ),
                    "fields": serializers.ListField(
                        required=False,
                        child=serializers.CharField(),
                        help_text="MERGE_AMBIGUOUS: the fields changed since the merge.",
                    ),
                },
            )
        )
    },
)


def error_response(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=ErrorEnvelope, description=description)


ERROR_RESPONSES = {
    400: error_response("Invalid input: one entry per problem, naming the field."),
    401: error_response("Missing, malformed, unknown, revoked or expired credentials."),
    403: error_response("The credential may not act for this organization."),
    404: error_response("No such customer in this organization."),
    412: error_response("If-Match does not match the current ETag: nothing was written."),
    413: error_response("The body is larger than 1 MB."),
    415: error_response("The body is not application/json."),
    429: error_response(
        "Over the credential's rate limit (THROTTLED); Retry-After says when to try again."
    ),
}


def strip_trailing_slashes(endpoints, **kwargs):
    """Document `/api/customers/{id}`, the canonical spelling; the router also takes a slash."""
    return [(path.rstrip("/") or path, *rest) for path, *rest in endpoints]


# Answers any authenticated operation can give, whatever it does: documented on every one of them
# by the hook below rather than remembered view by view.
_ANSWERS_OF_EVERY_AUTHENTICATED_OPERATION = {
    "401": "Missing, malformed, unknown, revoked or expired credentials.",
    "429": "Over the credential's rate limit (THROTTLED); Retry-After says when to try again.",
    "503": "The database is briefly unreachable (SERVICE_UNAVAILABLE); Retry-After says when.",
}


def document_common_answers(result, generator, request, public):
    envelope_ref = {"$ref": "#/components/schemas/ErrorEnvelope"}
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if operation.get("security") in (None, [{}]):
                continue
            responses = operation.setdefault("responses", {})
            for status_code, description in _ANSWERS_OF_EVERY_AUTHENTICATED_OPERATION.items():
                responses.setdefault(
                    status_code,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": envelope_ref}},
                    },
                )
    return result
