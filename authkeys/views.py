"""Sign-in, refresh and logout: Simple JWT's views with the contract's errors and limits."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework_simplejwt.views import (
    TokenBlacklistView,
    TokenObtainPairView,
    TokenRefreshView,
)

from common.schema import error_response

from .throttling import SignInFailureThrottle

TOKEN_PAIR = inline_serializer(
    "TokenPair",
    {
        "access": serializers.CharField(help_text="Send as `Authorization: Bearer …`."),
        "refresh": serializers.CharField(help_text="Exchange at /api/auth/token/refresh."),
    },
)
BAD_BODY = error_response("A field is missing or not a string.")
TOO_MANY_FAILURES = error_response(
    "Too many failed sign-ins for this email or from this address; Retry-After says how long."
)


class SignInView(TokenObtainPairView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [SignInFailureThrottle]

    @extend_schema(
        summary="Sign in with email and password",
        responses={
            200: TOKEN_PAIR,
            400: BAD_BODY,
            401: error_response("Wrong email or password, or the user is inactive."),
            429: TOO_MANY_FAILURES,
        },
    )
    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except AuthenticationFailed:
            SignInFailureThrottle().record_failure(request)
            raise


class RefreshView(TokenRefreshView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Exchange a refresh token for a new access token and a new refresh token",
        description=(
            "The refresh token sent is blacklisted: keep the new one from the response. A "
            "blacklisted, expired or malformed refresh token, or one of an inactive user, is 401."
        ),
        responses={
            200: TOKEN_PAIR,
            400: BAD_BODY,
            401: error_response("The refresh token is invalid, expired or blacklisted."),
        },
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class LogoutView(TokenBlacklistView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Sign out: blacklist a refresh token",
        description=(
            "After this the refresh token can no longer be exchanged. Access tokens already "
            "issued work until they expire (JWT_ACCESS_MINUTES)."
        ),
        responses={
            204: OpenApiResponse(description="Signed out."),
            400: BAD_BODY,
            401: error_response("The refresh token is invalid, expired or already blacklisted."),
        },
    )
    def post(self, request, *args, **kwargs):
        super().post(request, *args, **kwargs)
        return Response(status=status.HTTP_204_NO_CONTENT)
