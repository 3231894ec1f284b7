"""The peer's token class: the key by its SHA-256 digest, with `select_related`."""

import hashlib

from django.utils import timezone
from rest_framework import authentication, exceptions, permissions

from authkeys.models import ApiKey


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header.startswith("Bearer "):
            return None
        digest = hashlib.sha256(header[7:].strip().encode()).hexdigest()
        try:
            key = ApiKey.objects.select_related("organization", "created_by").get(digest=digest)
        except ApiKey.DoesNotExist:
            raise exceptions.AuthenticationFailed("Invalid API key.") from None
        if key.revoked_at or (key.expires_at and key.expires_at <= timezone.now()):
            raise exceptions.AuthenticationFailed("Invalid API key.")
        return key.created_by, key


class HasApiKey(permissions.BasePermission):
    """Keys made without a user (bench/generate.py's) have no user to be authenticated as."""

    def has_permission(self, request, view):
        return request.auth is not None
