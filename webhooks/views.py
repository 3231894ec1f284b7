"""`/api/webhooks…`: an organization's webhook endpoints and their deliveries, for its owners and
admins signed in (API keys cannot manage them, as they cannot manage keys)."""

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiCallback,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.response import Response

from authkeys.permissions import ManagesOrganization
from common.errors import ApplicationError
from common.fields import MAX_ID
from common.pagination import PageParamsSerializer, PaginationSerializer, paginate
from common.query_params import read_query_params
from common.schema import ERROR_RESPONSES, ORGANIZATION_HEADER, error_response
from common.views import OrganizationScopedViewSet

from . import services, tasks
from .models import WebhookDelivery, WebhookEndpoint
from .serializers import (
    CreatedWebhookSerializer,
    DeliverySerializer,
    WebhookChangeSerializer,
    WebhookCreateSerializer,
    WebhookPayloadSerializer,
    WebhookSerializer,
)

WEBHOOK_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Webhook")
DELIVERY_ID = OpenApiParameter(
    "delivery_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Delivery"
)
NOT_FOUND = error_response("No such webhook in this organization (WEBHOOK_NOT_FOUND).")
ERRORS = {
    401: ERROR_RESPONSES[401],
    403: error_response(
        "Not an owner or admin of the organization, or the credential is an API key."
    ),
    429: ERROR_RESPONSES[429],
    501: error_response(
        "This server keeps its data in SQLite; webhooks need PostgreSQL (WEBHOOKS_UNAVAILABLE)."
    ),
}
INPUT_ERRORS = {
    400: error_response(
        "Invalid input, a URL that is not https or resolves to a private, loopback, link-local "
        "or metadata address, or an unknown event type."
    ),
    415: ERROR_RESPONSES[415],
}
DeliveryPage = inline_serializer(
    "WebhookDeliveryPage",
    {"deliveries": DeliverySerializer(many=True), "pagination": PaginationSerializer()},
)
WebhookList = inline_serializer("WebhookList", {"webhooks": WebhookSerializer(many=True)})
DeletedWebhook = inline_serializer("DeletedWebhook", {"id": serializers.IntegerField()})
SIGNATURE_HEADERS = [
    OpenApiParameter(
        "webhook-id",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        required=True,
        description="`evt_` and the event's id: the same on every attempt; drop repeats by it.",
    ),
    OpenApiParameter(
        "webhook-timestamp",
        OpenApiTypes.INT,
        OpenApiParameter.HEADER,
        required=True,
        description="When this attempt was signed, in Unix seconds.",
    ),
    OpenApiParameter(
        "webhook-signature",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        required=True,
        description="`v1,` and the HMAC-SHA256 of `id.timestamp.body` with the secret, in "
        "base64, per Standard Webhooks: verify it with that specification's libraries.",
    ),
]
DELIVERY = OpenApiCallback(
    "event",
    "{$request.body#/url}",
    extend_schema(
        summary="A change to a customer, delivered to the webhook",
        description="POSTed to the webhook's URL at least once per event it receives, retried "
        "with back-off for three days until it answers 2xx; deliveries about one customer "
        "arrive in event order. Any 2xx is success; anything else, or no answer within the "
        "webhook's timeout, is retried.",
        parameters=SIGNATURE_HEADERS,
        request=WebhookPayloadSerializer,
        responses={
            200: OpenApiResponse(description="Any 2xx: delivered."),
            500: OpenApiResponse(description="Anything else: tried again later."),
        },
    ),
)


class WebhookViewSet(OrganizationScopedViewSet):
    model = WebhookEndpoint
    permission_classes = [ManagesOrganization]

    @extend_schema(
        operation_id="webhooks_list",
        summary="List the organization's webhooks",
        parameters=[ORGANIZATION_HEADER],
        responses={200: WebhookList, **ERRORS},
    )
    def list_webhooks(self, request):
        return Response({"webhooks": WebhookSerializer(self.get_queryset(), many=True).data})

    @extend_schema(
        operation_id="webhooks_create",
        summary="Create a webhook",
        description="It receives the events that commit after it is created, each a POST signed "
        "per Standard Webhooks with the `secret` of this answer, which is shown only now.",
        parameters=[ORGANIZATION_HEADER],
        request=WebhookCreateSerializer,
        responses={201: CreatedWebhookSerializer, **INPUT_ERRORS, **ERRORS},
        callbacks=[DELIVERY],
    )
    def create_webhook(self, request):
        services.require_available()
        data = self._input(WebhookCreateSerializer, request)
        endpoint = services.endpoint_create(
            organization=self.organization,
            name=data["name"],
            url=data["url"],
            event_types=data["events"],
            timeout_seconds=data.get("timeout_seconds"),
            created_by=request.auth.user,
        )
        body = CreatedWebhookSerializer(endpoint).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="webhooks_retrieve",
        summary="Get a webhook",
        parameters=[ORGANIZATION_HEADER, WEBHOOK_ID],
        responses={200: WebhookSerializer, 404: NOT_FOUND, **ERRORS},
    )
    def retrieve_webhook(self, request, pk):
        return Response(WebhookSerializer(self._endpoint(pk)).data)

    @extend_schema(
        operation_id="webhooks_change",
        summary="Change a webhook's name, URL, events or timeout",
        description="Leave out what stays. The secret and the webhook's place in the feed stay.",
        parameters=[ORGANIZATION_HEADER, WEBHOOK_ID],
        request=WebhookChangeSerializer,
        responses={200: WebhookSerializer, **INPUT_ERRORS, 404: NOT_FOUND, **ERRORS},
    )
    def change_webhook(self, request, pk):
        endpoint = self._endpoint(pk)
        data = self._input(WebhookChangeSerializer, request, partial=True)
        services.endpoint_change(endpoint=endpoint, **data)
        return Response(WebhookSerializer(endpoint).data)

    @extend_schema(
        operation_id="webhooks_delete",
        summary="Delete a webhook and its deliveries",
        parameters=[ORGANIZATION_HEADER, WEBHOOK_ID],
        responses={200: DeletedWebhook, 404: NOT_FOUND, **ERRORS},
    )
    def delete_webhook(self, request, pk):
        return Response({"id": services.endpoint_delete(endpoint=self._endpoint(pk))})

    @extend_schema(
        operation_id="webhooks_toggle",
        summary="Deactivate an active webhook, or activate an inactive one",
        description="Activating also resumes a webhook that delivery disabled for failing. "
        "Events written while it was inactive are not sent; `GET /api/events` has them.",
        parameters=[ORGANIZATION_HEADER, WEBHOOK_ID],
        request=None,
        responses={200: WebhookSerializer, 400: INPUT_ERRORS[400], 404: NOT_FOUND, **ERRORS},
    )
    def toggle_webhook(self, request, pk):
        endpoint = services.endpoint_toggle(endpoint=self._endpoint(pk))
        return Response(WebhookSerializer(endpoint).data)

    @extend_schema(
        operation_id="webhooks_deliveries",
        summary="A webhook's deliveries, newest first",
        parameters=[ORGANIZATION_HEADER, WEBHOOK_ID, PageParamsSerializer],
        responses={200: DeliveryPage, 400: ERROR_RESPONSES[400], 404: NOT_FOUND, **ERRORS},
    )
    def list_deliveries(self, request, pk):
        endpoint = self._endpoint(pk)
        params = read_query_params(PageParamsSerializer, request.query_params)
        deliveries = WebhookDelivery.objects.filter(
            organization=self.organization, endpoint=endpoint
        ).order_by("-id")
        page = paginate(deliveries, page=params["page"], page_size=params["pageSize"])
        return Response(
            {
                "deliveries": DeliverySerializer(page.rows, many=True).data,
                "pagination": page.meta,
            }
        )

    @extend_schema(
        operation_id="webhooks_redeliver",
        summary="Send a delivery again",
        description="Queued at once, with the same `webhook-id`, whatever became of it before.",
        parameters=[ORGANIZATION_HEADER, WEBHOOK_ID, DELIVERY_ID],
        request=None,
        responses={
            202: DeliverySerializer,
            404: error_response(
                "No such webhook or delivery (WEBHOOK_NOT_FOUND, DELIVERY_NOT_FOUND)."
            ),
            409: error_response("The webhook is inactive (WEBHOOK_INACTIVE)."),
            **ERRORS,
        },
    )
    def redeliver(self, request, pk, delivery_id):
        endpoint = self._endpoint(pk)
        delivery = None
        if int(delivery_id) <= MAX_ID:
            delivery = WebhookDelivery.objects.filter(
                organization=self.organization, endpoint=endpoint, pk=delivery_id
            ).first()
        if delivery is None:
            raise ApplicationError(404, "DELIVERY_NOT_FOUND", "No delivery with this id.")
        delivery.endpoint = endpoint
        with transaction.atomic():
            services.redeliver(delivery=delivery)
            tasks.queue_deliveries([delivery])
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

    def _endpoint(self, pk: str) -> WebhookEndpoint:
        endpoint = None
        if int(pk) <= MAX_ID:
            endpoint = self.get_queryset().filter(pk=pk).first()
        if endpoint is None:
            raise ApplicationError(404, "WEBHOOK_NOT_FOUND", "No webhook with this id.")
        return endpoint

    def _input(self, serializer_class, request, partial=False) -> dict:
        serializer = serializer_class(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        names = {"timeoutSeconds": "timeout_seconds"}
        return {names.get(key, key): value for key, value in serializer.validated_data.items()}
