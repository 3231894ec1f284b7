"""The customer API (contract sections 4 to 6): thin views that parse, call a service or a selector,
and render. The OpenAPI description of each operation is in `customers/api/schema.py`."""

from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from common.actors import Actor
from common.errors import ApplicationError
from common.fields import MAX_ID
from common.http import IfMatch, request_header
from common.pagination import PageParamsSerializer, paginate
from common.query_params import read_query_params
from common.views import OrganizationScopedViewSet
from customers import duplicates, idempotency, selectors, services
from customers.models import Customer

from . import schema
from .duplicates import MergeSerializer, candidate_data, duplicates_header, pair_data
from .listing import (
    CustomerChangeSerializer,
    CustomerListParamsSerializer,
    split_filter_roles,
)
from .serializers import (
    BulkDeleteSerializer,
    CustomerCreateSerializer,
    CustomerSerializer,
    CustomerUpdateSerializer,
    OpeningBalanceSerializer,
    customer_data,
)

IDEMPOTENCY_KEY_MAX = 255


@schema.customer_viewset
class CustomerViewSet(OrganizationScopedViewSet, viewsets.ModelViewSet):
    """Customers of the organization the credential acts for."""

    model = Customer
    serializer_class = CustomerSerializer
    lookup_value_regex = "[^/]+"
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def list(self, request, *args, **kwargs):
        query, roles = split_filter_roles(request.query_params)
        params = read_query_params(CustomerListParamsSerializer, query)
        search = params.get("searchKeyword") or None
        conditions = [
            q for q in (params.get("viewSlug"), params.get("stringifiedFilterRoles"), roles) if q
        ]
        customers = selectors.customer_list(
            organization=self.organization,
            search=search,
            sort_by=params["columnSortBy"],
            descending=params["sortOrder"] == "DESC",
            active=params.get("inactiveMode"),
            updated_since=params.get("updatedSince"),
            conditions=conditions,
        )
        page = paginate(customers, page=params["page"], page_size=params["pageSize"])
        return Response(
            {
                "customers": [customer_data(customer) for customer in page.rows],
                "pagination": page.meta,
                "filterMeta": {
                    "columnSortBy": params["columnSortBy"],
                    "sortOrder": params["sortOrder"],
                    "searchKeyword": search,
                },
            }
        )

    def create(self, request, *args, **kwargs):
        serializer = CustomerCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        on_duplicate = self.on_duplicate()
        actor = Actor.from_request(request)
        key = self.idempotency_key()
        if key is None:
            customer = services.customer_create(
                organization=self.organization,
                data=serializer.validated_data,
                actor=actor,
                on_duplicate=on_duplicate,
            )
            response = self.customer_response(customer, status.HTTP_201_CREATED)
            matches = [match.customer.pk for match in customer.possible_duplicates]
            for name, value in duplicates_header(matches).items():
                response[name] = value
            return response
        stored = idempotency.customer_create_idempotent(
            organization=self.organization,
            key=key,
            digest=idempotency.request_digest(request.data),
            data=serializer.validated_data,
            actor=actor,
            render=customer_data,
            on_duplicate=on_duplicate,
        )
        headers = {"ETag": stored.etag, **duplicates_header(stored.possible_duplicate_ids)}
        if stored.replayed:
            headers["Idempotent-Replayed"] = "true"
        return Response(stored.body, status=stored.status_code, headers=headers)

    def on_duplicate(self) -> str | None:
        """`?onDuplicate=allow|reject` (or `on_duplicate`): this request's answer to a strong
        match; absent, the organization's setting decides. Other query parameters are ignored,
        as they always were on create."""
        given = [
            value
            for name in ("onDuplicate", "on_duplicate")
            for value in self.request.query_params.getlist(name)
        ]
        if not given:
            return None
        if len(given) > 1 or given[0] not in services.ON_DUPLICATE:
            raise ApplicationError(
                400,
                "VALIDATION_ERROR",
                "onDuplicate is allow or reject, sent once.",
                field="onDuplicate",
            )
        return given[0]

    @action(detail=True, methods=["get"])
    def duplicates(self, request, *args, **kwargs):
        customer = self.get_customer()
        matches = duplicates.candidates(customer, self.organization)
        return Response({"duplicates": [candidate_data(match) for match in matches]})

    @action(detail=False, methods=["get"], url_path="duplicates")
    def duplicate_pairs(self, request, *args, **kwargs):
        params = read_query_params(PageParamsSerializer, request.query_params)
        page = duplicates.pairs(
            self.organization, page=params["page"], page_size=params["pageSize"]
        )
        return Response(
            {
                "pairs": [pair_data(*pair) for pair in page.pairs],
                "pagination": {
                    "page": params["page"],
                    "pageSize": params["pageSize"],
                    "total": page.total,
                },
            }
        )

    def retrieve(self, request, *args, **kwargs):
        customer = self.get_customer()
        if_none_match = IfMatch.parse(request_header(request, "If-None-Match"))
        if if_none_match is not None and if_none_match.matches(customer.etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": customer.etag})
        return self.customer_response(customer)

    def update(self, request, *args, partial=False, **kwargs):
        customer_id = self.customer_id()
        serializer = CustomerUpdateSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        customer = services.customer_update(
            changes=serializer.validated_data, **self.write_context(customer_id)
        )
        return self.customer_response(customer)

    def destroy(self, request, *args, **kwargs):
        customer_id = services.customer_delete(**self.write_context(self.customer_id()))
        return Response({"id": customer_id})

    @action(detail=True, methods=["put"], url_path="opening-balance")
    def opening_balance(self, request, *args, **kwargs):
        customer_id = self.customer_id()
        serializer = OpeningBalanceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        customer = services.customer_set_opening_balance(
            amount=values["opening_balance"],
            at=values.get("opening_balance_at"),
            exchange_rate=values.get("opening_balance_exchange_rate"),
            branch_id=values.get("opening_balance_branch_id"),
            **self.write_context(customer_id),
        )
        return self.customer_response(customer)

    @action(detail=True, methods=["post", "patch"])
    def activate(self, request, *args, **kwargs):
        customer = services.customer_activate(**self.write_context(self.customer_id()))
        return self.customer_response(customer)

    @action(detail=True, methods=["post", "patch"])
    def inactivate(self, request, *args, **kwargs):
        customer = services.customer_inactivate(**self.write_context(self.customer_id()))
        return self.customer_response(customer)

    @action(detail=False, methods=["post"], url_path="validate-bulk-delete")
    def validate_bulk_delete(self, request, *args, **kwargs):
        # Bigcapital's BulkDeleteCustomersDto, as bulk-delete takes it; skipUndeletable changes
        # nothing in the answer, which already tells the deletable from the rest.
        serializer = BulkDeleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        check = services.customer_bulk_delete_check(
            organization=self.organization, ids=serializer.validated_data["ids"]
        )
        return Response(
            {
                "deletableCount": len(check.deletable_ids),
                "nonDeletableCount": len(check.non_deletable_ids),
                "deletableIds": check.deletable_ids,
                "nonDeletableIds": check.non_deletable_ids,
            }
        )

    @action(detail=False, methods=["post"], url_path="bulk-delete")
    def bulk_delete(self, request, *args, **kwargs):
        serializer = BulkDeleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        deleted = services.customer_bulk_delete(
            organization=self.organization,
            ids=serializer.validated_data["ids"],
            skip_undeletable=serializer.validated_data["skipUndeletable"],
            actor=Actor.from_request(request),
        )
        return Response({"deletedIds": deleted})

    @action(detail=True, methods=["get"])
    def history(self, request, *args, **kwargs):
        customer_id = self.customer_id()
        params = read_query_params(PageParamsSerializer, request.query_params)
        if not selectors.customer_exists(organization=self.organization, customer_id=customer_id):
            raise services.customer_not_found()
        changes = selectors.customer_history(
            organization=self.organization, customer_id=customer_id
        )
        page = paginate(changes, page=params["page"], page_size=params["pageSize"])
        return Response(
            {
                "history": CustomerChangeSerializer(page.rows, many=True).data,
                "pagination": page.meta,
            }
        )

    @action(detail=True, methods=["post"])
    def merge(self, request, *args, **kwargs):
        customer_id = self.customer_id()
        serializer = MergeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        context = self.write_context(customer_id)
        survivor = services.customer_merge(
            into_id=values["into"],
            choices=values["fields"],
            into_if_match=IfMatch.parse(values.get("intoIfMatch")),
            **context,
        )
        return self.customer_response(survivor)

    @action(detail=True, methods=["post"])
    def unmerge(self, request, *args, **kwargs):
        restored = services.customer_unmerge(**self.write_context(self.customer_id()))
        return self.customer_response(restored)

    def handle_exception(self, exc):
        """A customer id that is missing because it was merged away answers CUSTOMER_MERGED,
        with `mergedInto`, on every route that names it; looked up only on the way out of a
        404, so the routes that find their customer pay nothing."""
        if (
            isinstance(exc, ApplicationError)
            and exc.error_type == "CUSTOMER_NOT_FOUND"
            and exc.field is None
            and self.lookup_field in self.kwargs
            and getattr(self, "organization", None) is not None
        ):
            raw = self.kwargs[self.lookup_field]
            if raw.isascii() and raw.isdigit() and int(raw) <= MAX_ID:
                exc = services.customer_missing(self.organization, int(raw))
        return super().handle_exception(exc)

    def customer_id(self) -> int:
        raw = self.kwargs[self.lookup_field]
        if not raw.isascii() or not raw.isdigit() or int(raw) > MAX_ID:
            raise services.customer_not_found()
        return int(raw)

    def get_customer(self) -> Customer:
        customer = selectors.customer_get(
            organization=self.organization, customer_id=self.customer_id()
        )
        if customer is None:
            raise services.customer_not_found()
        return customer

    def write_context(self, customer_id: int) -> dict:
        """What every single-customer write needs: the scope, the actor, the If-Match."""
        return {
            "organization": self.organization,
            "customer_id": customer_id,
            "actor": Actor.from_request(self.request),
            "if_match": IfMatch.parse(request_header(self.request, "If-Match")),
        }

    def idempotency_key(self) -> str | None:
        key = request_header(self.request, "Idempotency-Key")
        if key is not None and not (
            0 < len(key) <= IDEMPOTENCY_KEY_MAX and key.isascii() and key.isprintable()
        ):
            raise ApplicationError(
                400,
                "VALIDATION_ERROR",
                f"Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX} printable ASCII characters.",
                field="Idempotency-Key",
            )
        return key

    def customer_response(self, customer: Customer, status_code=status.HTTP_200_OK) -> Response:
        return Response(
            customer_data(customer), status=status_code, headers={"ETag": customer.etag}
        )
