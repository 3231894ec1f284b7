"""Reads of organizations and memberships that more than one door needs."""

from .models import Membership, User


def sign_in_membership(user: User) -> Membership | None:
    """The organization a sign-in without one chosen acts for: the user's only active
    membership of an active organization or, with several, the one they joined first (ties by
    id). None when they have none. A client may still act for any other of their organizations
    by sending its id in the `organization-id` header."""
    return (
        Membership.objects.filter(user=user, is_active=True, organization__is_active=True)
        .select_related("organization")
        .order_by("created_at", "id")
        .first()
    )
