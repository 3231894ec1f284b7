from rest_framework.routers import DefaultRouter

from .views import CustomerViewSet

router = DefaultRouter(trailing_slash=False)
router.register("api/customers", CustomerViewSet, basename="customer")
urlpatterns = router.urls
