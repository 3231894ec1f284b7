from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .admin_scoping import OrganizationScopedAdmin, scope
from .models import Branch, Membership, Organization, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class BranchInline(admin.TabularInline):
    model = Branch
    extra = 0


@admin.register(Organization)
class OrganizationAdmin(OrganizationScopedAdmin):
    organization_path = "pk"
    list_display = ["name", "base_currency", "is_active", "response_casing", "created_at"]
    list_filter = ["is_active", "base_currency", "response_casing"]
    search_fields = ["name"]
    inlines = [MembershipInline, BranchInline]

    def has_add_permission(self, request):
        # A new organization has no members yet, so only a superuser could ever see it again.
        return request.user.is_superuser and super().has_add_permission(request)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "is_active", "is_staff", "date_joined"]
    search_fields = ["email", "name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("name",)}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    filter_horizontal = ["groups"]

    def get_readonly_fields(self, request, obj=None):
        # Only a superuser hands out site-wide access; otherwise staff of one organization could
        # make a colleague a superuser, who then sees every organization.
        if request.user.is_superuser:
            return super().get_readonly_fields(request, obj)
        return ["is_staff", "is_superuser", "groups"]

    def get_queryset(self, request):
        # Staff see the people of their own organizations, not every account on the site.
        users = scope(super().get_queryset(request), request, path="memberships__organization")
        return users if request.user.is_superuser else users.distinct()


@admin.register(Membership)
class MembershipAdmin(OrganizationScopedAdmin):
    list_display = ["user", "organization", "role", "is_active"]
    list_filter = ["organization", "role", "is_active"]
    search_fields = ["user__email", "organization__name"]
    list_select_related = ["user", "organization"]
    autocomplete_fields = ["user", "organization"]


@admin.register(Branch)
class BranchAdmin(OrganizationScopedAdmin):
    list_display = ["name", "code", "organization", "is_primary"]
    list_filter = ["organization"]
    search_fields = ["name", "code"]
    list_select_related = ["organization"]
    autocomplete_fields = ["organization"]
