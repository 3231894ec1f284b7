from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from common.schema import error_response


class SignInView(TokenObtainPairView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Sign in with email and password",
        responses={401: error_response("Wrong email or password, or the user is inactive.")},
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class RefreshView(TokenRefreshView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Exchange a refresh token for a new access token",
        responses={401: error_response("The refresh token is invalid or expired.")},
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)
