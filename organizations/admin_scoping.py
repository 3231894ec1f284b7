"""Who sees what in the back office, decided once for every tenant ModelAdmin.

A superuser sees every organization. Other staff see only the organizations they are active
members of (for some admins: only those they own), in every list, form, filter, search,
autocomplete and action. Another organization's row is answered like a missing one: the admin's
own "doesn't exist" redirect, never the object.
"""

from django.contrib import admin

from .models import Branch, Membership, Organization

_CACHE_ATTRIBUTE = "_visible_organization_ids"


def visible_organization_ids(request, roles: frozenset[str] | None = None) -> list[int] | None:
    """The ids of the organizations `request.user` may see, or None for "all" (a superuser).

    A list, not a subquery, so `organization_id IN (5)` lets PostgreSQL walk the
    (organization, ...) indexes in order. Cached on the request: one query per page.
    """
    user = request.user
    if user.is_active and user.is_superuser:
        return None
    cache = request.__dict__.setdefault(_CACHE_ATTRIBUTE, {})
    key = roles or frozenset()
    if key not in cache:
        memberships = Membership.objects.filter(
            user_id=user.pk, is_active=True, organization__is_active=True
        )
        if roles:
            memberships = memberships.filter(role__in=roles)
        cache[key] = sorted(memberships.values_list("organization_id", flat=True))
    return cache[key]


def scope_key(request, roles=None) -> str:
    """A cache key fragment naming the user's scope: users who see the same rows share it."""
    ids = visible_organization_ids(request, roles)
    return "all" if ids is None else "-".join(map(str, ids)) or "none"


def scope(queryset, request, *, path: str = "organization", roles=None):
    """`queryset` narrowed to the rows of the organizations the user may see."""
    ids = visible_organization_ids(request, roles)
    if ids is None:
        return queryset
    return queryset.filter(**{f"{path}__in": ids})


def visible_organizations(request, roles=None):
    return scope(Organization.objects.all(), request, path="pk", roles=roles)


class ScopedOrganizationFilter(admin.RelatedFieldListFilter):
    """The organization filter, listing only the organizations the user may see."""

    def field_choices(self, field, request, model_admin):
        return [(org.pk, str(org)) for org in visible_organizations(request, model_admin.roles)]


class OrganizationScopedAdmin(admin.ModelAdmin):
    """Base for every tenant ModelAdmin: rows, choices and filters limited to the user's
    organizations.

    `organization_path` is the lookup from the model to its organization ("pk" for Organization
    itself); `roles`, when set, narrows the organizations to memberships with those roles.
    """

    organization_path = "organization"
    roles: frozenset[str] | None = None

    def get_queryset(self, request):
        return scope(
            super().get_queryset(request), request, path=self.organization_path, roles=self.roles
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # The autocomplete widget only lists scoped rows; the queryset here is what the form
        # accepts on POST, so it must be scoped too or a forged id would be saved.
        related = db_field.related_model
        if related is Organization:
            kwargs["queryset"] = visible_organizations(request, self.roles)
        elif related is Branch:
            kwargs["queryset"] = scope(Branch.objects.all(), request, roles=self.roles)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_list_filter(self, request):
        return [
            ("organization", ScopedOrganizationFilter) if name == "organization" else name
            for name in super().get_list_filter(request)
        ]

    def visible_organizations(self, request):
        return visible_organizations(request, self.roles)
