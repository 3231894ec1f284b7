"""Bigcapital's descriptions of the customer resource: its fields and its predefined views.

Bigcapital's web client asks these before it shows a list, to build its filter and column
menus: `GET /api/resources/{resourceModel}/meta` and `GET /api/views/resource/{resourceModel}`.
Counterpart's only resource is the customer; both answer from the tables the list itself uses
(customers/filter_roles.py), so what they offer is what the list accepts.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import ApplicationError
from common.naming import to_camel
from common.schema import ERROR_RESPONSES, ORGANIZATION_HEADER
from customers.fields import FIELDS
from customers.filter_roles import FILTERABLE, STATUSES, VIEWS

RESOURCE_NAMES = frozenset({"customer", "customers"})
RESOURCE = OpenApiParameter(
    "resourceModel",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="`Customer` (or `customers`, any case): Counterpart's only resource.",
)
_ERRORS = {code: ERROR_RESPONSES[code] for code in (401, 403, 404)}


def _check_resource(resource_model: str) -> None:
    if resource_model.lower() not in RESOURCE_NAMES:
        raise ApplicationError(
            404,
            "NOT_FOUND",
            "Counterpart serves one resource, Customer; no other has views or meta.",
        )


def _fields() -> dict:
    """Bigcapital's field meta: each filterable field by its snake_case key."""
    fields = {}
    for key, filterable in FILTERABLE.items():
        if key != key.lower():
            continue  # the camelCase spellings name the same fields
        entry = {
            "name": key.replace("_", " ").capitalize(),
            "column": key,
            "fieldType": filterable.type,
        }
        if filterable.choices:
            entry["options"] = [
                {"key": choice, "label": choice.capitalize()}
                for choice in filterable.choices
                if choice in STATUSES or key != "status"
            ]
        fields[key] = entry
    return fields


def customer_meta() -> dict:
    fields = _fields()
    return {
        "defaultFilterField": "displayName",
        "defaultSort": {"sortOrder": "DESC", "sortField": "created_at"},
        # Bigcapital's import flow and export (customers/api/imports.py) serve the customer.
        "importable": True,
        "exportable": True,
        "print": {"pageTitle": "Customers"},
        "fields": fields,
        "fields2": {to_camel(key): field for key, field in fields.items()},
        "columns": {
            field.name: {"name": field.label, "type": FILTERABLE[field.name].type}
            for field in FIELDS
            if field.name in FILTERABLE
        },
    }


def customer_views() -> list[dict]:
    return [
        {
            "id": number,
            "name": slug.capitalize(),
            "slug": slug,
            "predefined": True,
            "resourceModel": "Customer",
            "favourite": False,
            "rolesLogicExpression": "1",
            "roles": [{"index": 1, **role} for role in roles],
            "columns": [],
            # A predefined view was never created or edited.
            "createdAt": None,
            "updatedAt": None,
        }
        for number, (slug, roles) in enumerate(VIEWS.items(), start=1)
    ]


class ResourceMetaView(APIView):
    @extend_schema(
        operation_id="resources_meta",
        summary="The customer resource's fields, as Bigcapital describes a resource",
        description="Bigcapital's `ResourceMetaResponseDto` for `Customer`: the fields the list's "
        "filterRoles accept, with their types, and the columns.",
        parameters=[ORGANIZATION_HEADER, RESOURCE],
        responses={
            200: inline_serializer("ResourceMeta", {"fields": serializers.DictField()}),
            **_ERRORS,
        },
    )
    def get(self, request, **kwargs):
        _check_resource(kwargs["resourceModel"])  # Bigcapital's name for the path parameter
        return Response(customer_meta())


class ResourceViewsView(APIView):
    @extend_schema(
        operation_id="views_resource",
        summary="The customer list's predefined views, as Bigcapital lists them",
        description="Bigcapital's views of `Customer` that Counterpart's data can answer; pass a "
        "view's `slug` as the list's `viewSlug`.",
        parameters=[ORGANIZATION_HEADER, RESOURCE],
        responses={
            200: inline_serializer(
                "ResourceView",
                {
                    "id": serializers.IntegerField(),
                    "name": serializers.CharField(),
                    "slug": serializers.CharField(),
                    "predefined": serializers.BooleanField(),
                    "resourceModel": serializers.CharField(),
                    "favourite": serializers.BooleanField(),
                    "rolesLogicExpression": serializers.CharField(),
                    "roles": serializers.ListField(child=serializers.DictField()),
                    "columns": serializers.ListField(child=serializers.DictField()),
                    "createdAt": serializers.DateTimeField(allow_null=True),
                    "updatedAt": serializers.DateTimeField(allow_null=True),
                },
                many=True,
            ),
            **_ERRORS,
        },
    )
    def get(self, request, **kwargs):
        _check_resource(kwargs["resourceModel"])
        return Response(customer_views())
