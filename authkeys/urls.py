from django.urls import re_path

from .views import RefreshView, SignInView

urlpatterns = [
    re_path(r"^auth/token/?$", SignInView.as_view(), name="token_obtain"),
    re_path(r"^auth/token/refresh/?$", RefreshView.as_view(), name="token_refresh"),
]
