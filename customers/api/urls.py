from django.urls import re_path
from rest_framework.routers import SimpleRouter

from .contacts import ContactViewSet
from .events import EventFeedView
from .imports import (
    ExportView,
    ImportFileView,
    ImportMappingView,
    ImportMetaView,
    ImportPreviewView,
    ImportProcessView,
    ImportSampleView,
)
from .resources import ResourceMetaView, ResourceViewsView
from .views import CustomerViewSet


class OptionalSlashRouter(SimpleRouter):
    """`/api/customers/17` and `/api/customers/17/` both route, with no redirect."""

    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"


router = OptionalSlashRouter()
router.register("customers", CustomerViewSet, basename="customer")

# Bigcapital activates and inactivates every kind of contact at /api/contacts/{id}/…; here the
# only contacts are customers.
contact_patterns = [
    re_path(
        r"^contacts/auto-complete/?$",
        ContactViewSet.as_view({"get": "auto_complete"}),
        name="contact-auto-complete",
    ),
    re_path(
        r"^contacts/(?P<pk>[^/]+)/?$",
        ContactViewSet.as_view({"get": "retrieve"}),
        name="contact-detail",
    ),
    *(
        re_path(
            rf"^contacts/(?P<pk>[^/]+)/{name}/?$",
            CustomerViewSet.as_view({"patch": name}),
            name=f"contact-{name}",
        )
        for name in ("activate", "inactivate")
    ),
]

# Bigcapital's descriptions of a resource; here the customer is the only one.
resource_patterns = [
    re_path(
        r"^resources/(?P<resourceModel>[A-Za-z_-]{1,64})/meta/?$",
        ResourceMetaView.as_view(),
        name="resource-meta",
    ),
    re_path(
        r"^views/resource/(?P<resourceModel>[A-Za-z_-]{1,64})/?$",
        ResourceViewsView.as_view(),
        name="resource-views",
    ),
]

# Bigcapital's bulk files (customers/api/imports.py).
IMPORT_ID = r"(?P<import_id>[A-Za-z0-9_-]{1,64})"
file_patterns = [
    re_path(r"^import/file/?$", ImportFileView.as_view(), name="import-file"),
    re_path(r"^import/sample/?$", ImportSampleView.as_view(), name="import-sample"),
    re_path(rf"^import/{IMPORT_ID}/mapping/?$", ImportMappingView.as_view(), name="import-mapping"),
    re_path(rf"^import/{IMPORT_ID}/preview/?$", ImportPreviewView.as_view(), name="import-preview"),
    re_path(rf"^import/{IMPORT_ID}/import/?$", ImportProcessView.as_view(), name="import-process"),
    re_path(rf"^import/{IMPORT_ID}/?$", ImportMetaView.as_view(), name="import-meta"),
    re_path(r"^export/?$", ExportView.as_view(), name="export"),
]

event_patterns = [re_path(r"^events/?$", EventFeedView.as_view(), name="events")]

urlpatterns = router.urls + contact_patterns + resource_patterns + file_patterns + event_patterns
