"""Bigcapital's contact routes: a customer read as a contact, and the auto-complete.

Bigcapital keeps customers and vendors as one `contacts` table; here every contact is a customer.
`GET /api/contacts/{id}` answers `{"customer": …}`, where Bigcapital's web client reads it (its
`useContact` selects `res.data.customer`); the auto-complete answers a bare array, as Bigcapital's.
Activating and inactivating a contact are the customer routes (customers/api/urls.py).
"""

from django.db.models import F
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.response import Response

from common.query_params import QueryIntegerField, read_query_params
from common.schema import ERROR_RESPONSES, ORGANIZATION_HEADER
from common.views import OrganizationScopedViewSet
from customers import selectors, services
from customers.models import Customer
from customers.search import search

from .serializers import CustomerSerializer, customer_data

AUTO_COMPLETE_MAX = 100


def contact_data(customer: Customer) -> dict:
    """The customer as Bigcapital's contact: the customer's fields, and what a contact adds."""
    data = customer_data(customer)
    return {**data, "contactService": "customer", "contactType": data["customerType"]}


@extend_schema_serializer(component_name="Contact")
class ContactSerializer(CustomerSerializer):
    """A customer as Bigcapital's contact (the OpenAPI description of `contact_data`)."""

    contactService = serializers.CharField(read_only=True, help_text="Always `customer` here.")
    contactType = serializers.CharField(
        read_only=True, help_text="The customer type: business or individual."
    )


@extend_schema_serializer(component_name="ContactAutoCompleteParams")
class AutoCompleteParamsSerializer(serializers.Serializer):
    keyword = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=255,
        help_text="A fragment of the display, first, last or company name, email, phone or code, "
        "any case (the list's searchKeyword). Empty: the first contacts by name.",
    )
    limit = QueryIntegerField(
        required=False,
        default=10,
        min_value=1,
        max_value=AUTO_COMPLETE_MAX,
        help_text=f"At most this many contacts (1 to {AUTO_COMPLETE_MAX}; 10 if absent).",
    )

    def validate_keyword(self, value):
        if "\x00" in value:
            raise serializers.ValidationError("Must not contain NUL characters.")
        return value


class ContactViewSet(OrganizationScopedViewSet):
    model = Customer

    @extend_schema(
        operation_id="contacts_retrieve",
        summary="A contact (a customer) by id",
        description="Bigcapital's contact read: the customer under the `customer` key.",
        parameters=[
            ORGANIZATION_HEADER,
            OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH),
        ],
        responses={
            200: inline_serializer("ContactResponse", {"customer": ContactSerializer()}),
            **{code: ERROR_RESPONSES[code] for code in (401, 403, 404)},
        },
    )
    def retrieve(self, request, pk):
        customer = None
        if pk.isascii() and pk.isdigit() and len(pk) <= 19:
            customer = selectors.customer_get(organization=self.organization, customer_id=int(pk))
        if customer is None:
            raise services.customer_not_found()
        return Response({"customer": contact_data(customer)})

    @extend_schema(
        operation_id="contacts_auto_complete",
        summary="Contacts whose name, email, phone or code contains a keyword",
        description=(
            "Bigcapital's auto-complete: a JSON array of contacts sorted by display name. It "
            "matches what the customer list's searchKeyword matches (a fragment of any searched "
            "column, any case), through the same index."
        ),
        parameters=[ORGANIZATION_HEADER, AutoCompleteParamsSerializer],
        responses={
            200: ContactSerializer(many=True),
            **{code: ERROR_RESPONSES[code] for code in (400, 401, 403)},
        },
    )
    def auto_complete(self, request):
        params = read_query_params(AutoCompleteParamsSerializer, request.query_params)
        customers = self.get_queryset()
        if params.get("keyword"):
            customers = search(customers, params["keyword"])
        customers = customers.order_by(F("display_name").asc(), F("id").asc())
        return Response([contact_data(customer) for customer in customers[: params["limit"]]])
