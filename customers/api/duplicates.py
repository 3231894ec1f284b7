"""The duplicates and merge endpoints' answers (contract section 11): rendered by plain functions,
described to OpenAPI by the serializers below."""

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from common.pagination import PaginationSerializer
from customers import matching

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


def duplicates_header(matches: list[matching.Match]) -> dict:
    """`Counterpart-Possible-Duplicates: 12, 40`: the strong matches of a created customer."""
    if not matches:
        return {}
    return {DUPLICATES_HEADER: ", ".join(str(match.customer.pk) for match in matches)}


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
