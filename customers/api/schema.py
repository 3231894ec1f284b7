"""OpenAPI description of every customer operation (drf-spectacular)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)

from common.pagination import PageParamsSerializer
from common.schema import ERROR_RESPONSES, ORGANIZATION_HEADER, error_response

from .duplicates import (
    DUPLICATES_HEADER,
    CustomerDuplicatesSerializer,
    DuplicatePairListSerializer,
    MergeSerializer,
)
from .listing import (
    FILTER_ROLES_PARAMETER,
    CustomerHistorySerializer,
    CustomerListParamsSerializer,
    CustomerListSerializer,
)
from .serializers import (
    BulkDeleteCheckSerializer,
    BulkDeleteResultSerializer,
    BulkDeleteSerializer,
    CustomerCreateSerializer,
    CustomerSerializer,
    CustomerUpdateSerializer,
    DeletedSerializer,
    OpeningBalanceSerializer,
)

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The ETag from an earlier read; the write happens only if it is still current.",
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    pattern=r"^[!-~]([ -~]{0,253}[!-~])?$",
    description=(
        "Up to 255 printable ASCII characters, unique per creation. Within 24 hours a retry with "
        "the same key and body gets the first response again (with `Idempotent-Replayed: true`) "
        "and creates nothing; the same key with another body is 422 `IDEMPOTENCY_KEY_REUSED`."
    ),
)
CUSTOMER_ID = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Customer id"
)
# Errors a given kind of operation can answer with (all carry the error envelope).
_READ_ERRORS = {code: ERROR_RESPONSES[code] for code in (400, 401, 403, 404)}
_LIST_ERRORS = {code: ERROR_RESPONSES[code] for code in (400, 401, 403)}
_BODY_ERRORS = {code: ERROR_RESPONSES[code] for code in (400, 401, 403, 413, 415)}
_CREATE_ERRORS = {
    **_BODY_ERRORS,
    409: error_response(
        "CUSTOMER_POSSIBLE_DUPLICATE (with `onDuplicate=reject`, or the organization's setting): "
        "the customer strongly matches existing ones, listed in `candidates`; nothing created."
    ),
    422: error_response("IDEMPOTENCY_KEY_REUSED: the key was used with another body."),
}
POSSIBLE_DUPLICATES_HEADER = OpenApiParameter(
    DUPLICATES_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[201],
    description="The ids of existing customers the new one strongly matches, comma-separated "
    "(`12, 40`); absent when there are none. Their scores and reasons: "
    "`GET /api/customers/{id}/duplicates`.",
)
ON_DUPLICATE = OpenApiParameter(
    "onDuplicate",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    enum=["allow", "reject"],
    description="What a strong match with an existing customer does: `allow` creates the "
    f"customer and names the matches in `{DUPLICATES_HEADER}`; `reject` answers 409 "
    "`CUSTOMER_POSSIBLE_DUPLICATE`. Absent, the organization's setting decides (allow by "
    "default). Also `on_duplicate`.",
)
_ACTION_ERRORS = {
    **ERROR_RESPONSES,
    400: error_response("CONTACT_ALREADY_ACTIVE or CONTACT_ALREADY_INACTIVE."),
}
_DELETE_ERRORS = {
    **ERROR_RESPONSES,
    400: error_response("CUSTOMER_HAS_TRANSACTIONS: the customer cannot be deleted."),
}
_BULK_DELETE_ERRORS = {
    **_BODY_ERRORS,
    400: error_response(
        "Invalid ids, or CUSTOMER_HAS_TRANSACTIONS (without skipUndeletable): nothing deleted."
    ),
    404: error_response("CUSTOMER_NOT_FOUND (without skipUndeletable): nothing deleted."),
}


def _customer(status_code: int = 200) -> dict:
    return {
        status_code: OpenApiResponse(
            CustomerSerializer,
            description="The customer; the `ETag` header carries its version for `If-Match`.",
        )
    }


def _one(summary: str, *, request=None, errors=ERROR_RESPONSES, description="", **kwargs):
    return extend_schema(
        summary=summary,
        description=description,
        parameters=[ORGANIZATION_HEADER, CUSTOMER_ID, IF_MATCH],
        request=request,
        responses={**_customer(), **errors},
        **kwargs,
    )


_MERGE_ERRORS = {
    **ERROR_RESPONSES,
    400: error_response(
        "Invalid body; `into` names no customer of this organization (CUSTOMER_NOT_FOUND), the "
        "customer itself (MERGE_INTO_SELF) or a merged one (CUSTOMER_MERGED, with "
        "`mergedInto`); the currencies differ (MERGE_CURRENCY_MISMATCH) or the opening balances' "
        "exchange rates do (MERGE_EXCHANGE_RATE_MISMATCH); the balances or opening balances add up "
        "past what an amount holds (MERGE_AMOUNT_TOO_LARGE). Nothing is written."
    ),
    404: error_response(
        "CUSTOMER_NOT_FOUND, or CUSTOMER_MERGED with `mergedInto`: it was merged already."
    ),
    412: error_response("If-Match or `intoIfMatch` is stale: nothing was written."),
}
_UNMERGE_ERRORS = {
    **ERROR_RESPONSES,
    400: error_response("CUSTOMER_NOT_MERGED: the customer is not merged into another."),
    409: error_response(
        "MERGE_AMBIGUOUS: the survivor changed since the merge in fields the merge wrote "
        "(listed in `fields`), or is gone; UNMERGE_EXPIRED: the merge is over 30 days old. "
        "Nothing is written."
    ),
    412: error_response("If-Match does not match the survivor's ETag: nothing was written."),
}


customer_viewset = extend_schema_view(
    list=extend_schema(
        summary="List and search customers",
        description="One page of the organization's customers in a total order (ties by id).",
        parameters=[ORGANIZATION_HEADER, CustomerListParamsSerializer, FILTER_ROLES_PARAMETER],
        responses={200: CustomerListSerializer, **_LIST_ERRORS},
    ),
    create=extend_schema(
        summary="Create a customer",
        parameters=[ORGANIZATION_HEADER, IDEMPOTENCY_KEY, ON_DUPLICATE, POSSIBLE_DUPLICATES_HEADER],
        request=CustomerCreateSerializer,
        responses={
            201: OpenApiResponse(
                CustomerSerializer,
                description="The customer; `ETag` carries its version. When it strongly "
                f"matches existing customers, `{DUPLICATES_HEADER}` lists their ids "
                "(`12, 40`).",
            ),
            **_CREATE_ERRORS,
        },
    ),
    duplicates=extend_schema(
        summary="Possible duplicates of a customer",
        description="The organization's customers that may be this one, strongest first, each "
        "with its score and reasons: the same email, phone (E.164, with the organization's "
        "region) or code, and similar names.",
        parameters=[ORGANIZATION_HEADER, CUSTOMER_ID],
        responses={200: CustomerDuplicatesSerializer, **_READ_ERRORS},
        operation_id="customers_duplicates_of_customer",
    ),
    merge=extend_schema(
        summary="Merge a customer into another",
        description="In one transaction: the survivor (`into`) keeps the chosen field values; "
        "balances and opening balances are added up (one currency only); the history of both "
        "is read from the survivor; this customer's id then answers 404 `CUSTOMER_MERGED` with "
        "`mergedInto`, and it is in no list or search. `If-Match` is this customer's ETag, "
        "`intoIfMatch` the survivor's. Both get a `customer.merged` event. Undo within 30 days "
        "with `unmerge`.",
        parameters=[ORGANIZATION_HEADER, CUSTOMER_ID, IF_MATCH],
        request=MergeSerializer,
        responses={
            200: OpenApiResponse(CustomerSerializer, description="The survivor, with its ETag."),
            **_MERGE_ERRORS,
        },
    ),
    unmerge=extend_schema(
        summary="Undo a merge",
        description="Within 30 days of the merge: this customer (merged away) comes back "
        "exactly as it was, with its id, values, balances and history, and the survivor gets "
        "back what the merge changed. Changes the survivor had since, in other fields, stay. "
        "`If-Match` is the survivor's ETag.",
        parameters=[ORGANIZATION_HEADER, CUSTOMER_ID, IF_MATCH],
        request=None,
        responses={
            200: OpenApiResponse(CustomerSerializer, description="The restored customer."),
            **_UNMERGE_ERRORS,
        },
    ),
    duplicate_pairs=extend_schema(
        summary="Likely duplicate pairs of the organization",
        description="Pairs of customers sharing an email, phone, code or name key, strongest "
        "first (ties by ids), one page at a time.",
        parameters=[ORGANIZATION_HEADER, PageParamsSerializer],
        responses={200: DuplicatePairListSerializer, **_LIST_ERRORS},
        operation_id="customers_duplicate_pairs",
    ),
    retrieve=extend_schema(
        summary="Get a customer",
        parameters=[ORGANIZATION_HEADER, CUSTOMER_ID],
        responses={
            **_customer(),
            304: OpenApiResponse(description="Not modified (If-None-Match)."),
            **_READ_ERRORS,
        },
    ),
    update=_one(
        "Edit a customer",
        request=CustomerUpdateSerializer,
        description="Fields left out of the body keep their stored values.",
    ),
    partial_update=_one("Edit some fields of a customer", request=CustomerUpdateSerializer),
    destroy=extend_schema(
        summary="Delete a customer",
        description="A customer with transactions cannot be deleted. Its history is kept.",
        parameters=[ORGANIZATION_HEADER, CUSTOMER_ID, IF_MATCH],
        responses={200: DeletedSerializer, **_DELETE_ERRORS},
    ),
    opening_balance=_one(
        "Set a customer's opening balance",
        request=OpeningBalanceSerializer,
        description="The receivable balance moves by the same difference, in one transaction.",
    ),
    activate=_one("Activate a customer", errors=_ACTION_ERRORS),
    inactivate=_one("Inactivate a customer", errors=_ACTION_ERRORS),
    validate_bulk_delete=extend_schema(
        summary="Check which customers could be deleted",
        parameters=[ORGANIZATION_HEADER],
        request=BulkDeleteSerializer,
        responses={200: BulkDeleteCheckSerializer, **_BODY_ERRORS},
    ),
    bulk_delete=extend_schema(
        summary="Delete several customers",
        description="All or nothing, unless `skipUndeletable` is true.",
        parameters=[ORGANIZATION_HEADER],
        request=BulkDeleteSerializer,
        responses={200: BulkDeleteResultSerializer, **_BULK_DELETE_ERRORS},
    ),
    history=extend_schema(
        summary="A customer's change history",
        description="Newest first: when, through which door, by whom, and each field's old and "
        "new value. A deleted customer's history is not served here (404).",
        parameters=[ORGANIZATION_HEADER, CUSTOMER_ID, PageParamsSerializer],
        responses={200: CustomerHistorySerializer, **_READ_ERRORS},
    ),
)
