"""`GET /api/events`: the organization's change feed, in order, by cursor (customers/events.py).

A reader keeps `nextCursor` and asks again with `after=` it: it sees every event once, in the
order the changes committed, whatever order concurrent transactions started in. Events older
than the retention are gone; a cursor from before them is answered 410 CURSOR_EXPIRED, so the
reader knows it must read the whole book again (`GET /api/customers`) rather than miss changes.
"""

import re

from django.conf import settings
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import ApplicationError
from common.query_params import QueryIntegerField, read_query_params
from common.schema import ERROR_RESPONSES, ORGANIZATION_HEADER, error_response
from customers import events

from .listing import CustomerChangeSerializer
from .serializers import CustomerSerializer

MAX_LIMIT = 1000
_TYPE = "(" + "|".join(re.escape(event_type) for event_type in events.TYPES.values()) + ")"
TYPES_PATTERN = rf"^{_TYPE}(,{_TYPE})*$"


@extend_schema_field({"type": "string", "pattern": TYPES_PATTERN})
class EventTypesField(serializers.CharField):
    """Event types, comma-separated: described to OpenAPI by a pattern, checked by the params'
    validate_types (which names the unknown ones)."""


@extend_schema_serializer(component_name="EventFeedParams")
class FeedParamsSerializer(serializers.Serializer):
    after = QueryIntegerField(
        required=False,
        min_value=0,
        help_text="The `nextCursor` of the previous page. Left out: from the oldest event kept.",
    )
    types = EventTypesField(
        required=False,
        max_length=500,
        help_text="Only these event types, comma-separated: "
        + ", ".join(f"`{event_type}`" for event_type in events.TYPES.values())
        + ".",
    )
    limit = QueryIntegerField(
        required=False, default=100, min_value=1, max_value=MAX_LIMIT, help_text="At most 1000."
    )

    def validate_types(self, value: str) -> list[str]:
        types = [part.strip() for part in value.split(",") if part.strip()]
        unknown = [part for part in types if part not in events.ACTIONS]
        if unknown:
            raise serializers.ValidationError(f"Unknown event type: {', '.join(unknown)}.")
        return types


@extend_schema_serializer(component_name="Event")
class EventSerializer(CustomerChangeSerializer):
    """A change to a customer, as other systems read it."""

    id = serializers.IntegerField(help_text="Stable: the same event always has the same id.")
    type = serializers.SerializerMethodField()
    position = serializers.IntegerField(help_text="Its place in the feed; `after` takes it.")
    customerId = serializers.IntegerField(source="customer_id")
    customer = serializers.SerializerMethodField(
        help_text="The customer as the API showed it after the change (before it, if deleted)."
    )

    def get_type(self, change) -> str:
        return events.TYPES[change.action]

    @extend_schema_field(CustomerSerializer)
    def get_customer(self, change) -> dict:
        return change.snapshot  # kept in the API's own form (events.snapshot)


@extend_schema_serializer(component_name="EventFeed")
class EventFeedSerializer(serializers.Serializer):
    events = EventSerializer(many=True)
    nextCursor = serializers.CharField(help_text="Send it as `after` to read on.")
    hasMore = serializers.BooleanField(help_text="More events wait: ask again at once.")


class EventFeedView(APIView):
    @extend_schema(
        operation_id="events_list",
        summary="The organization's customer events after a cursor, in commit order",
        description="Every change to a customer, through every door, as an event: its type, "
        "who made it and through which door, the changed fields with their old values, and the "
        f"customer as the API shows it. Kept {settings.EVENT_RETENTION_DAYS} days by default "
        "(`EVENT_RETENTION_DAYS`).",
        parameters=[ORGANIZATION_HEADER, FeedParamsSerializer],
        responses={
            200: EventFeedSerializer,
            410: error_response(
                "The cursor is older than the retention: events after it are gone "
                "(CURSOR_EXPIRED). Read the customers again, then follow the feed from the "
                "newest cursor."
            ),
            **{code: ERROR_RESPONSES[code] for code in (400, 401, 403)},
        },
    )
    def get(self, request):
        params = read_query_params(FeedParamsSerializer, request.query_params)
        organization_id = request.auth.organization.pk
        after = params.get("after")
        # Read before the events: every position up to it has committed, so a cursor moved to
        # it skips only events of other types (customers/events.py).
        head = events.last_position(organization_id)
        if after is not None and after > head:
            raise ApplicationError(
                400, "VALIDATION_ERROR", "No event has this position yet.", "after"
            )
        if after is not None and events.expired_after(organization_id, after):
            raise ApplicationError(
                410,
                "CURSOR_EXPIRED",
                f"Events after this cursor are older than {settings.EVENT_RETENTION_DAYS} days "
                "and are gone: read the customers again, then follow the feed from its end.",
            )
        limit = params["limit"]
        page = events.feed(
            organization_id, after=after or 0, types=params.get("types"), limit=limit
        )
        has_more = len(page) == limit
        last = page[-1].position if page else 0
        cursor = last if has_more else max(last, head, after or 0)
        return Response(
            {
                "events": EventSerializer(page, many=True).data,
                "nextCursor": str(cursor),
                "hasMore": has_more,
            }
        )
