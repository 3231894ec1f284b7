from django.urls import re_path

from .api_key_views import ApiKeyViewSet
from .views import (
    AccountView,
    AuthMetaView,
    BigcapitalSignInView,
    LogoutView,
    RefreshView,
    SignInView,
)

urlpatterns = [
    re_path(r"^auth/token/?$", SignInView.as_view(), name="token_obtain"),
    re_path(r"^auth/signin/?$", BigcapitalSignInView.as_view(), name="bigcapital_signin"),
    re_path(r"^auth/account/?$", AccountView.as_view(), name="account"),
    re_path(r"^auth/meta/?$", AuthMetaView.as_view(), name="auth_meta"),
    re_path(r"^auth/token/refresh/?$", RefreshView.as_view(), name="token_refresh"),
    re_path(r"^auth/logout/?$", LogoutView.as_view(), name="logout"),
    re_path(r"^api-keys/?$", ApiKeyViewSet.as_view({"get": "list_keys"}), name="api_key_list"),
    re_path(
        r"^api-keys/generate/?$",
        ApiKeyViewSet.as_view({"post": "generate"}),
        name="api_key_generate",
    ),
    # At most 19 digits: longer is no id we issued, and answers the generic 404.
    re_path(
        r"^api-keys/(?P<pk>[0-9]{1,19})/?$",
        ApiKeyViewSet.as_view({"patch": "change"}),
        name="api_key_change",
    ),
    re_path(
        r"^api-keys/(?P<pk>[0-9]{1,19})/revoke/?$",
        ApiKeyViewSet.as_view({"put": "revoke"}),
        name="api_key_revoke",
    ),
]
