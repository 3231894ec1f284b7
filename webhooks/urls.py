from django.urls import re_path

from .views import WebhookViewSet

# Ids: at most 19 digits; longer is no id we issued, and answers the generic 404.
ID = r"(?P<pk>[0-9]{1,19})"

urlpatterns = [
    re_path(
        r"^webhooks/?$",
        WebhookViewSet.as_view({"get": "list_webhooks", "post": "create_webhook"}),
        name="webhook_list",
    ),
    re_path(
        rf"^webhooks/{ID}/?$",
        WebhookViewSet.as_view(
            {"get": "retrieve_webhook", "put": "change_webhook", "delete": "delete_webhook"}
        ),
        name="webhook_detail",
    ),
    re_path(
        rf"^webhooks/{ID}/toggle/?$",
        WebhookViewSet.as_view({"post": "toggle_webhook"}),
        name="webhook_toggle",
    ),
    re_path(
        rf"^webhooks/{ID}/deliveries/?$",
        WebhookViewSet.as_view({"get": "list_deliveries"}),
        name="webhook_deliveries",
    ),
    re_path(
        rf"^webhooks/{ID}/deliveries/(?P<delivery_id>[0-9]{{1,19}})/redeliver/?$",
        WebhookViewSet.as_view({"post": "redeliver"}),
        name="webhook_redeliver",
    ),
]
