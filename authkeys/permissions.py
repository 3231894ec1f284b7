from rest_framework.permissions import BasePermission

from .authentication import Principal


class HasOrganization(BasePermission):
    """The request was authenticated by BearerAuthentication and so acts for an organization."""

    def has_permission(self, request, view):
        return isinstance(request.auth, Principal)
