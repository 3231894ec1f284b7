from rest_framework.routers import SimpleRouter

from .views import CustomerViewSet


class OptionalSlashRouter(SimpleRouter):
    """`/api/customers/17` and `/api/customers/17/` both route, with no redirect."""

    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"


router = OptionalSlashRouter()
router.register("customers", CustomerViewSet, basename="customer")

urlpatterns = router.urls
