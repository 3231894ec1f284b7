from django.urls import re_path
from rest_framework.routers import SimpleRouter

from .contacts import ContactViewSet
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

urlpatterns = router.urls + contact_patterns
