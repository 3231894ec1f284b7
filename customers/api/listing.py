"""The list's query parameters and the list and history answers (contract section 6)."""

import json
import re

from django.db.models import Q
from django.http import QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError

from common.fields import DateOrDateTimeField
from common.naming import to_snake
from common.pagination import PageParamsSerializer, PaginationSerializer
from common.parsers import reject_lone_surrogates
from customers.filter_roles import (
    MAX_ROLES,
    VIEWS,
    FilterRolesError,
    parse_roles,
    roles_q,
    view_q,
)
from customers.models import CustomerChange
from customers.selectors import DEFAULT_SORT, SORT_COLUMNS

from .serializers import CustomerSerializer

SORT_SPELLINGS = {spelling: name for name in SORT_COLUMNS for spelling in (name, to_snake(name))}


class _Choice(serializers.ChoiceField):
    """One of the keys of `choices`, answered with its value (the canonical spelling)."""

    def __init__(self, *, choices: dict, fold_case: bool = False, **kwargs):
        self.canonical, self.fold_case = choices, fold_case
        super().__init__(choices=list(choices), **kwargs)

    def to_internal_value(self, data):
        value = data.upper() if self.fold_case and isinstance(data, str) else data
        if value not in self.canonical:
            self.fail("invalid_choice", input=data)
        return self.canonical[value]


def _only_empty(feature: str, help_text: str) -> serializers.ChoiceField:
    """A parameter Bigcapital's client sends empty, for a feature Counterpart does not have: the
    schema's enum says which values mean "none", and any other value is refused, not ignored."""
    return serializers.ChoiceField(
        choices=["", "[]"],
        required=False,
        allow_blank=True,
        help_text=help_text,
        error_messages={
            "invalid_choice": f"Counterpart has no {feature}: leave this parameter out or empty."
        },
    )


def _no_nul(value: str) -> None:
    if "\x00" in value:
        raise serializers.ValidationError("Must not contain NUL characters.")


@extend_schema_serializer(component_name="CustomerListParams")
class CustomerListParamsSerializer(PageParamsSerializer):
    searchKeyword = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=255,
        validators=[_no_nul],
        help_text="Case-insensitive match in the display, first, last and company name, email, "
        "phones and code. Also `search_keyword`.",
    )
    columnSortBy = _Choice(
        choices=SORT_SPELLINGS,
        required=False,
        default=DEFAULT_SORT,
        help_text=f"A field, in either spelling: {', '.join(SORT_COLUMNS)}. Ties go by id. "
        "Also `column_sort_by`.",
    )
    sortOrder = _Choice(
        choices={"ASC": "ASC", "DESC": "DESC"},
        fold_case=True,
        required=False,
        default="DESC",
        help_text="`ASC` or `DESC` (any case). Also `sort_order`.",
    )
    inactiveMode = _Choice(
        choices={"true": False, "false": True},
        required=False,
        help_text="`true`: only inactive customers; `false`: only active ones; absent: all. "
        "Also `inactive_mode`.",
    )
    updatedSince = DateOrDateTimeField(
        required=False, help_text="Only customers updated at or after. Also `updated_since`."
    )
    viewSlug = serializers.ChoiceField(
        choices=list(VIEWS),
        required=False,
        allow_blank=True,
        help_text=f"One of Bigcapital's predefined customer views: {', '.join(VIEWS)} "
        "(`overdue` needs invoices, which Counterpart does not keep). Empty: none. "
        "Also `view_slug`.",
        error_messages={
            "invalid_choice": f"No view {{input!r}}: the views are {', '.join(VIEWS)} "
            "(Bigcapital's overdue needs invoices, which Counterpart does not keep)."
        },
    )
    customViewId = _only_empty(
        "custom views",
        "Accepted only empty (Bigcapital sends it): Counterpart keeps no custom views; "
        "use viewSlug or filterRoles.",
    )
    stringifiedFilterRoles = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100_000,
        help_text="Bigcapital's filter roles as one JSON array of "
        "`{fieldKey, comparator, value, condition, index}` (see filterRoles). Also "
        "`stringified_filter_roles`.",
    )

    def validate_viewSlug(self, value):
        return view_q(value) if value else None

    def validate_stringifiedFilterRoles(self, value):
        if not value.strip():
            return None
        try:
            decoded = _loads(value)
        except (ValueError, RecursionError):
            raise serializers.ValidationError("Must be a JSON array of filter roles.") from None
        try:
            return roles_q(parse_roles(decoded))
        except FilterRolesError as error:
            raise serializers.ValidationError(str(error)) from None


FILTER_ROLES_PARAMETER = OpenApiParameter(
    "filterRoles",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    description=(
        "Bigcapital's filter roles: conditions `{fieldKey, comparator, value, condition, index}` "
        "joined left to right in index order, AND and OR with equal precedence (Bigcapital's "
        "rule). Sent as `filterRoles[0][fieldKey]=display_name&filterRoles[0][comparator]="
        "contains&filterRoles[0][value]=acme` (the query-string form Bigcapital's clients "
        "send), as `filterRoles[]=` with one JSON object each, or as one JSON array. Fields: "
        "the customer's, in either spelling, and `status` (active, inactive, unpaid). "
        "Comparators: text equals, not_equals, contains, not_contains, starts_with, ends_with "
        "(any case); number equals, not_equals, bigger_than, bigger_or_equals, smaller_than, "
        f"smaller_or_equals; boolean and choices equals, not_equals; date after, before, in. "
        f"At most {MAX_ROLES}; an unknown field or comparator, or a value of the wrong type, is "
        "a 400 naming it."
    ),
)
_BRACKETED = re.compile(r"^filter(?:Roles|_roles)\[(\d{0,4})\](?:\[([A-Za-z_]{1,32})\])?$")
_PLAIN = frozenset({"filterRoles", "filter_roles"})


def split_filter_roles(query_params: QueryDict) -> tuple[QueryDict, Q | None]:
    """The query string without its filterRoles keys, and the Q of the roles they held (None
    when there were none). Refuses, as a 400 naming filterRoles, what cannot be read."""
    rest, grouped, listed = query_params.copy(), {}, []
    for key in list(query_params):
        plain, match = key in _PLAIN, _BRACKETED.match(key)
        if not plain and match is None:
            continue
        values = rest.pop(key)
        if plain or match.group(2) is None:
            for value in values:
                listed.extend(_json_roles(value))
            continue
        if len(values) > 1:
            raise _roles_error(f"{key} was sent more than once.")
        grouped.setdefault(int(match.group(1) or 0), {})[match.group(2)] = values[0]
    roles = listed + [grouped[number] for number in sorted(grouped)]
    if not roles:
        return rest, None
    try:
        return rest, roles_q(parse_roles(roles))
    except FilterRolesError as error:
        raise _roles_error(str(error)) from None


def _json_roles(value: str) -> list:
    if not value.strip():
        return []
    try:
        decoded = _loads(value)
    except (ValueError, RecursionError):
        raise _roles_error("Each filterRoles value must be a JSON object or array.") from None
    return decoded if isinstance(decoded, list) else [decoded]


def _loads(text: str):
    """JSON from a query parameter. ValueError for what is not JSON, for an integer longer than
    the interpreter converts, and for half of a surrogate pair (no such text can be compared)."""
    decoded = json.loads(text)
    reject_lone_surrogates(decoded, text)
    return decoded


def _roles_error(message: str) -> ValidationError:
    return ValidationError({"filterRoles": [ErrorDetail(message, code="invalid")]})


@extend_schema_serializer(component_name="CustomerListFilterMeta")
class FilterMetaSerializer(serializers.Serializer):
    columnSortBy = serializers.CharField()
    sortOrder = serializers.CharField()
    searchKeyword = serializers.CharField(allow_null=True)


@extend_schema_serializer(component_name="CustomerList", many=False)
class CustomerListSerializer(serializers.Serializer):
    customers = CustomerSerializer(many=True)
    pagination = PaginationSerializer()
    filterMeta = FilterMetaSerializer()


@extend_schema_serializer(component_name="CustomerChangeActor")
class ActorSerializer(serializers.Serializer):
    userId = serializers.IntegerField(allow_null=True)
    userEmail = serializers.EmailField(allow_null=True)
    apiKeyId = serializers.IntegerField(allow_null=True)
    apiKeyName = serializers.CharField(allow_null=True)
    apiKeyPrefix = serializers.CharField(
        allow_null=True, help_text="The key's first characters; never the key or its digest."
    )


@extend_schema_field(
    {
        "type": "object",
        "description": "Each changed field (API name) → its old and new value.",
        "additionalProperties": {
            "type": "object",
            "properties": {"old": {}, "new": {}},
            "required": ["old", "new"],
        },
    }
)
class ChangesField(serializers.Field):
    def to_representation(self, value):
        return {name: {"old": old, "new": new} for name, (old, new) in value.items()}


@extend_schema_serializer(component_name="CustomerChange")
class CustomerChangeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    createdAt = DateOrDateTimeField(source="created_at")
    action = serializers.ChoiceField(choices=CustomerChange.Action.choices)
    door = serializers.CharField(help_text="api, admin, import or command.")
    actor = serializers.SerializerMethodField()
    changes = ChangesField()

    @extend_schema_field(ActorSerializer)
    def get_actor(self, change: CustomerChange) -> dict:
        user, key = change.actor_user, change.actor_api_key
        return {
            "userId": user.pk if user else None,
            "userEmail": user.email if user else None,
            "apiKeyId": key.pk if key else None,
            "apiKeyName": key.name if key else None,
            "apiKeyPrefix": key.prefix if key else None,
        }


@extend_schema_serializer(component_name="CustomerHistory", many=False)
class CustomerHistorySerializer(serializers.Serializer):
    history = CustomerChangeSerializer(many=True)
    pagination = PaginationSerializer()
