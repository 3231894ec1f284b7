from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status
from rest_framework.response import Response

from common.actors import Actor
from common.fields import MAX_ID
from common.http import IfMatch
from common.queries import unique_or_none
from common.schema import ERROR_RESPONSES, ORGANIZATION_HEADER
from common.views import OrganizationScopedViewSet
from customers import services
from customers.models import Customer

from .serializers import CustomerSerializer, CustomerUpdateSerializer, customer_data

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The ETag from an earlier read; the write happens only if it is still current.",
)
CUSTOMER_ID = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Customer id"
)


@extend_schema_view(
    retrieve=extend_schema(
        summary="Get a customer",
        parameters=[ORGANIZATION_HEADER, CUSTOMER_ID],
        responses={
            200: CustomerSerializer,
            304: OpenApiResponse(description="Not modified"),
            **ERROR_RESPONSES,
        },
    ),
    update=extend_schema(
        summary="Edit a customer",
        description="Fields left out of the body keep their stored values.",
        parameters=[ORGANIZATION_HEADER, CUSTOMER_ID, IF_MATCH],
        request=CustomerUpdateSerializer,
        responses={200: CustomerSerializer, **ERROR_RESPONSES},
    ),
    partial_update=extend_schema(
        summary="Edit some fields of a customer",
        parameters=[ORGANIZATION_HEADER, CUSTOMER_ID, IF_MATCH],
        request=CustomerUpdateSerializer,
        responses={200: CustomerSerializer, **ERROR_RESPONSES},
    ),
)
class CustomerViewSet(
    OrganizationScopedViewSet, mixins.RetrieveModelMixin, mixins.UpdateModelMixin
):
    """Customers of the organization the credential acts for."""

    model = Customer
    serializer_class = CustomerSerializer
    http_method_names = ["get", "put", "patch", "head", "options"]

    def retrieve(self, request, *args, **kwargs):
        customer = self.get_customer()
        if_none_match = IfMatch.parse(request.headers.get("If-None-Match"))
        if if_none_match is not None and if_none_match.matches(customer.etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": customer.etag})
        return self.customer_response(customer)

    def update(self, request, *args, partial=False, **kwargs):
        customer_id = self.customer_id()
        serializer = CustomerUpdateSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        customer = services.customer_update(
            organization=self.organization,
            customer_id=customer_id,
            changes=serializer.validated_data,
            actor=Actor.from_request(request),
            if_match=IfMatch.parse(request.headers.get("If-Match")),
        )
        return self.customer_response(customer)

    def customer_id(self) -> int:
        raw = self.kwargs[self.lookup_field]
        if not raw.isdigit() or int(raw) > MAX_ID:
            raise services.customer_not_found()
        return int(raw)

    def get_customer(self) -> Customer:
        customer = unique_or_none(self.get_queryset().filter(pk=self.customer_id()))
        if customer is None:
            raise services.customer_not_found()
        return customer

    def customer_response(self, customer: Customer, status_code=status.HTTP_200_OK) -> Response:
        return Response(
            customer_data(customer), status=status_code, headers={"ETag": customer.etag}
        )
