"""Sign-in, refresh and logout: Simple JWT's views with the contract's errors and limits."""

from django.conf import settings
from django.utils.translation import get_language
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import (
    TokenBlacklistView,
    TokenObtainPairView,
    TokenRefreshView,
)

from common.schema import ERROR_RESPONSES, ORGANIZATION_HEADER, error_response

from .throttling import SignInFailureThrottle
from .tokens import BigcapitalSignInSerializer

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


BIGCAPITAL_SIGN_IN = inline_serializer(
    "BigcapitalSignIn",
    {
        "access_token": serializers.CharField(help_text="Send as `Authorization: Bearer …`."),
        "accessToken": serializers.CharField(help_text="The same, as Bigcapital documents it."),
        "refresh_token": serializers.CharField(help_text="Exchange at /api/auth/token/refresh."),
        "refreshToken": serializers.CharField(help_text="The same, in camelCase."),
        "organization_id": serializers.CharField(
            help_text="Send as the `organization-id` header. The user's only active "
            "organization, or the one they joined first."
        ),
        "organizationId": serializers.CharField(help_text="The same, in camelCase."),
        "tenant_id": serializers.IntegerField(help_text="The organization's id, as a number."),
        "tenantId": serializers.IntegerField(help_text="The same, in camelCase."),
        "user_id": serializers.IntegerField(),
        "userId": serializers.IntegerField(),
    },
)


class BigcapitalSignInView(SignInView):
    """POST /api/auth/signin: Bigcapital's sign-in, with the same failure limits as the token
    endpoint (the two share SignInView)."""

    serializer_class = BigcapitalSignInSerializer

    @extend_schema(
        summary="Sign in as Bigcapital's clients do",
        description=(
            "Bigcapital's `POST /api/auth/signin`: an email and a password in; the access token "
            "and the organization it acts for out, in Bigcapital's server spelling (snake_case) "
            "and its document's (camelCase). A user of several organizations gets the one they "
            "joined first, and can act for any other by sending its id as `organization-id`. "
            "An expired access token is answered 401: sign in again."
        ),
        responses={
            200: BIGCAPITAL_SIGN_IN,
            400: BAD_BODY,
            401: error_response("Wrong email or password, or the user is inactive."),
            403: error_response("The user is an active member of no active organization."),
            429: TOO_MANY_FAILURES,
        },
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


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


ACCOUNT = inline_serializer(
    "AuthenticatedAccount",
    {
        "id": serializers.IntegerField(allow_null=True),
        "email": serializers.EmailField(allow_null=True),
        "firstName": serializers.CharField(),
        "lastName": serializers.CharField(),
        "active": serializers.BooleanField(),
        "verified": serializers.BooleanField(),
        "language": serializers.CharField(),
        "tenantId": serializers.IntegerField(),
        "organizationId": serializers.CharField(),
        "organization": inline_serializer(
            "AccountOrganization",
            {
                "id": serializers.IntegerField(),
                "name": serializers.CharField(),
                "baseCurrency": serializers.CharField(),
            },
        ),
        "role": serializers.CharField(
            allow_null=True, help_text="owner, admin or member; null for an API key."
        ),
        "apiKeyId": serializers.IntegerField(
            allow_null=True, help_text="The key the request was made with, if any."
        ),
    },
)


class AccountView(APIView):
    """GET /api/auth/account: who is signed in, and for which organization."""

    @extend_schema(
        summary="The signed-in account",
        description=(
            "Bigcapital's `GET /api/auth/account`: the user (for an API key, the person who "
            "created it) and the organization the request acts for."
        ),
        parameters=[ORGANIZATION_HEADER],
        responses={200: ACCOUNT, 401: ERROR_RESPONSES[401], 403: ERROR_RESPONSES[403]},
    )
    def get(self, request):
        principal, user = request.auth, request.auth.user
        first, _, last = (user.name if user else "").partition(" ")
        organization = principal.organization
        return Response(
            {
                "id": user.pk if user else None,
                "email": user.email if user else None,
                "firstName": first,
                "lastName": last,
                "active": bool(user and user.is_active),
                "verified": True,  # Counterpart's users are made by staff, not by self sign-up
                "language": get_language() or settings.LANGUAGE_CODE,
                "tenantId": organization.pk,
                "organizationId": str(organization.pk),
                "organization": {
                    "id": organization.pk,
                    "name": organization.name,
                    "baseCurrency": organization.base_currency,
                },
                "role": principal.role,
                "apiKeyId": principal.api_key.pk if principal.api_key else None,
            }
        )


class AuthMetaView(APIView):
    """GET /api/auth/meta: what Bigcapital's sign-in page asks before it shows a sign-up link."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    @extend_schema(
        summary="Whether people may sign themselves up",
        description=(
            "Bigcapital's `GET /api/auth/meta`. Counterpart has no self sign-up: staff make users "
            "in the back office. Both spellings, as at /api/auth/signin."
        ),
        responses={
            200: inline_serializer(
                "AuthMeta",
                {
                    "signupDisabled": serializers.BooleanField(),
                    "signup_disabled": serializers.BooleanField(),
                },
            )
        },
    )
    def get(self, request):
        return Response({"signupDisabled": True, "signup_disabled": True})
