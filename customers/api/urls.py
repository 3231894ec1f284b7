from django.urls import re_path
from rest_framework.routers import SimpleRouter

from .contacts import ContactViewSet
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

urlpatterns = router.urls + contact_patterns + resource_patterns
