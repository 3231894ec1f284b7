from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from authkeys.urls import urlpatterns as authkey_patterns
from common.health import healthz, readyz
from common.metrics import metrics
from common.views import api_not_found
from customers.api.urls import urlpatterns as customer_patterns
from webhooks.urls import urlpatterns as webhook_patterns

# Customers first: the busiest routes resolve without trying the sign-in and key patterns first.
# Listed, not include()d: each include is a resolver level that every request walks.
api_patterns = [
    *customer_patterns,
    *authkey_patterns,
    *webhook_patterns,
    re_path(r"^schema/?$", SpectacularAPIView.as_view(), name="schema"),
    re_path(r"^docs/?$", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    # Anything else under /api/ is a JSON 404, whatever DEBUG says.
    re_path(r"^.*$", api_not_found),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/", include(api_patterns)),
]

handler400 = "common.views.bad_request"
handler404 = "common.views.page_not_found"
handler500 = "common.views.server_error"
