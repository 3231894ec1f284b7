"""The list's query parameters and the list and history answers (contract section 6)."""

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from common.fields import DateOrDateTimeField
from common.naming import to_snake
from common.pagination import PageParamsSerializer, PaginationSerializer
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
    # Bigcapital's web client sends these two, empty; Counterpart has no saved views or filter
    # roles, so a value is refused rather than ignored.
    viewSlug = _only_empty(
        "saved views", "Accepted only empty (Bigcapital sends it): there are no saved views."
    )
    stringifiedFilterRoles = _only_empty(
        "filter roles", "Accepted only as `[]` or empty (Bigcapital sends it): no filter roles."
    )


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
