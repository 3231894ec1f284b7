"""Who may do what, once BearerAuthentication has decided who is acting.

- owner and admin (signed in with a JWT): manage the organization's API keys and members;
- member, and an API key: read and write the organization's customers (HasOrganization);
- an API key acts only for its own organization and never manages credentials: a leaked key
  must not be able to mint or revoke keys.
"""

from rest_framework.permissions import BasePermission

from organizations.models import Membership

from .authentication import Principal

MANAGER_ROLES = frozenset({Membership.Role.OWNER, Membership.Role.ADMIN})


class HasOrganization(BasePermission):
    """The request was authenticated by BearerAuthentication and so acts for an organization."""

    def has_permission(self, request, view):
        return isinstance(request.auth, Principal)


class ManagesOrganization(HasOrganization):
    """A person signed in with a JWT whose membership is owner or admin."""

    code = "permission_denied"
    message = "Only an owner or admin of the organization, signed in, may do this."

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        if request.auth.is_api_key:
            self.message = "An API key cannot manage API keys or members; sign in as a person."
            return False
        return request.auth.role in MANAGER_ROLES
