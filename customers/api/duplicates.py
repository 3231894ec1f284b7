"""The duplicates and merge endpoints' bodies (contract section 11): answers rendered by plain
functions and described to OpenAPI by the serializers below; the merge's input serializer."""

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from common.fields import StrictIntegerField
from common.pagination import PaginationSerializer
from common.serializers import StrictInputSerializer
from customers import matching
from customers.fields import writable

from .serializers import CustomerSerializer, customer_data

DUPLICATES_HEADER = "Counterpart-Possible-Duplicates"


def candidate_data(match: matching.Match) -> dict:
    return {
        "id": match.customer.pk,
        "score": match.score,
        "reasons": match.reasons,
        "customer": customer_data(match.customer),
    }


def pair_data(first, second, match: matching.Match) -> dict:
    return {
        "score": match.score,
        "reasons": match.reasons,
        "customers": [customer_data(first), customer_data(second)],
    }


def duplicates_header(customer_ids: list[int]) -> dict:
    """`Counterpart-Possible-Duplicates: 12, 40`: the strong matches of a created customer."""
    if not customer_ids:
        return {}
    return {DUPLICATES_HEADER: ", ".join(map(str, customer_ids))}


class _Reasons(serializers.ListField):
    child = serializers.CharField()

    def __init__(self, **kwargs):
        super().__init__(
            help_text='Why, most telling first: "same email", "same phone", "same code", '
            '"company name 0.92 similar".',
            **kwargs,
        )


_SCORE_HELP = (
    f"0 to 1. Listed from {matching.LIST_THRESHOLD}; a strong match (a create is hinted or "
    f"refused) from {matching.STRONG_THRESHOLD}."
)


@extend_schema_serializer(component_name="DuplicateCandidate")
class DuplicateCandidateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    score = serializers.FloatField(help_text=_SCORE_HELP)
    reasons = _Reasons()
    customer = CustomerSerializer()


@extend_schema_serializer(component_name="CustomerDuplicates")
class CustomerDuplicatesSerializer(serializers.Serializer):
    duplicates = DuplicateCandidateSerializer(many=True, help_text="Strongest first.")


@extend_schema_serializer(component_name="DuplicatePair")
class DuplicatePairSerializer(serializers.Serializer):
    score = serializers.FloatField(help_text=_SCORE_HELP)
    reasons = _Reasons()
    customers = CustomerSerializer(many=True, help_text="The two customers, lower id first.")


@extend_schema_serializer(component_name="DuplicatePairList")
class DuplicatePairListSerializer(serializers.Serializer):
    pairs = DuplicatePairSerializer(many=True, help_text="Strongest first, ties by ids.")
    pagination = PaginationSerializer()


_MERGEABLE = {field.name: field.attribute for field in writable("update")}
MERGE_CHOICES = [("source", "source"), ("into", "into")]


def _choice(name: str) -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=MERGE_CHOICES,
        required=False,
        help_text=f"Whose `{name}` the survivor keeps.",
    )


MergeChoicesSerializer = extend_schema_serializer(component_name="CustomerMergeChoices")(
    type(
        "MergeChoicesSerializer",
        (StrictInputSerializer,),
        {name: _choice(name) for name in _MERGEABLE},
    )
)


class _Choices(MergeChoicesSerializer):
    def __init__(self, **kwargs):
        super().__init__(
            required=False,
            default=dict,
            help_text="Whose value the survivor keeps, field by field: `source` (the customer "
            "merged away) or `into` (the survivor). A field left out keeps the survivor's value, "
            "or takes the source's where the survivor's is empty.",
            **kwargs,
        )

    def to_internal_value(self, data):
        choices = super().to_internal_value(data)
        return {_MERGEABLE[name]: choice for name, choice in choices.items()}


@extend_schema_serializer(component_name="CustomerMerge")
class MergeSerializer(StrictInputSerializer):
    into = StrictIntegerField(help_text="The id of the customer that survives.")
    fields = _Choices()
    intoIfMatch = serializers.CharField(
        required=False,
        max_length=255,
        help_text="The survivor's ETag as read: the merge happens only if it is still current "
        "(as `If-Match` does for the customer merged away), else 412.",
    )
