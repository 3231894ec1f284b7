"""The back office's merge page: two customers side by side, a choice per field, and the merge
done by customers.services.customer_merge, as the API does it."""

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from common.actors import Actor, Door
from common.errors import ApplicationError
from common.fields import MAX_ID
from common.http import IfMatch

from . import duplicates, services
from .fields import writable
from .models import Customer, CustomerMerge

MERGEABLE = [(field.label, field.attribute) for field in writable("update")]


def possible_duplicates_message(matches) -> str:
    """The admin's hint after a create: which customers look the same, linked to the merge."""
    return format_html(
        "This customer looks like {}. Merge them if they are one.",
        format_html_join(
            ", ",
            '<a href="{}">{} (#{}: {})</a>',
            (
                (
                    reverse("admin:customers_customer_change", args=[match.customer.pk]),
                    match.customer.display_name,
                    match.customer.pk,
                    ", ".join(match.reasons),
                )
                for match in matches
            ),
        ),
    )


def _keeps_source(source: Customer, target: Customer, attribute: str) -> bool:
    """The merge's default (customer_merge): the survivor's value, unless it is empty."""
    empty = ("", None)
    return getattr(target, attribute) in empty and getattr(source, attribute) not in empty


class CustomerMergeMixin:
    """`<id>/merge/`: pick the survivor among the possible duplicates (or by id), then choose
    field by field whose value it keeps."""

    def get_urls(self):
        return [
            path(
                "<path:object_id>/merge/",
                self.admin_site.admin_view(self.merge_view),
                name="customers_customer_merge",
            ),
            *super().get_urls(),
        ]

    def _scoped(self, request, object_id) -> Customer | None:
        raw = str(object_id)
        if not raw.isascii() or not raw.isdigit() or int(raw) > MAX_ID:
            return None
        return self.get_queryset(request).filter(pk=int(raw)).first()

    def merge_view(self, request, object_id):
        source = self._scoped(request, unquote(object_id))
        if source is None:
            self.message_user(request, "No such customer.", messages.WARNING)
            return HttpResponseRedirect(reverse("admin:customers_customer_changelist"))
        if not self.has_change_permission(request, source):
            raise PermissionDenied
        if request.method == "POST" and "unmerge" in request.POST:
            return self._unmerge(request, source, request.POST["unmerge"])
        into = request.POST.get("into") or request.GET.get("into")
        target = self._scoped(request, into) if into else None
        if into and target is None:
            self.message_user(request, f"No customer #{into} to merge into.", messages.ERROR)
        if request.method == "POST" and target is not None:
            return self._merge(request, source, target)
        rows = [
            {
                "label": label,
                "attribute": attribute,
                "source": getattr(source, attribute),
                "target": getattr(target, attribute),
                "keeps_source": _keeps_source(source, target, attribute),
            }
            for label, attribute in MERGEABLE
            if target is not None
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Merge {source.display_name}",
            "source": source,
            "target": target,
            "rows": rows,
            "candidates": []
            if target is not None
            else duplicates.candidates(source, source.organization),
            # Customers merged into this one that may still be split off again.
            "merged_here": CustomerMerge.objects.filter(
                organization=source.organization,
                target_id=source.pk,
                undone_at__isnull=True,
                merged_at__gte=timezone.now() - services.UNMERGE_WINDOW,
            ).order_by("-merged_at"),
        }
        return TemplateResponse(request, "admin/customers/customer/merge.html", context)

    def _unmerge(self, request, survivor: Customer, source_id: str):
        """Split the customer `source_id` off `survivor` again (customer_unmerge)."""
        merge = CustomerMerge.objects.filter(
            organization=survivor.organization,
            target_id=survivor.pk,
            source_id=int(source_id) if source_id.isascii() and source_id.isdigit() else 0,
            undone_at__isnull=True,
        ).first()
        here = reverse("admin:customers_customer_merge", args=[survivor.pk])
        if merge is None:
            self.message_user(request, "No such merge into this customer.", messages.ERROR)
            return HttpResponseRedirect(here)
        try:
            restored = services.customer_unmerge(
                organization=survivor.organization,
                customer_id=merge.source_id,
                actor=Actor(door=Door.ADMIN, user=request.user),
                if_match=IfMatch.parse(request.POST.get("survivor_etag")),
            )
        except ApplicationError as error:
            message = (
                "This customer changed after you opened the page: check it again."
                if error.status_code == 412
                else error.message
            )
            self.message_user(request, message, messages.ERROR)
            return HttpResponseRedirect(here)
        self.message_user(
            request,
            f"#{restored.pk} {restored.display_name} is a customer of its own again.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:customers_customer_change", args=[restored.pk]))

    def _merge(self, request, source: Customer, target: Customer):
        choices = {
            attribute: request.POST.get(f"keep_{attribute}", "into")
            for _, attribute in MERGEABLE
            if request.POST.get(f"keep_{attribute}") in ("source", "into")
        }
        try:
            survivor = services.customer_merge(
                organization=source.organization,
                customer_id=source.pk,
                into_id=target.pk,
                choices=choices,
                actor=Actor(door=Door.ADMIN, user=request.user),
                if_match=IfMatch.parse(request.POST.get("source_etag")),
                into_if_match=IfMatch.parse(request.POST.get("into_etag")),
            )
        except ApplicationError as error:
            message = (
                "One of the customers changed after you opened this page: check the values again."
                if error.status_code == 412
                else error.message
            )
            self.message_user(request, message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        self.message_user(
            request,
            f"Merged #{source.pk} into {survivor.display_name}. It can be undone for "
            f"{services.UNMERGE_WINDOW.days} days (POST /api/customers/{source.pk}/unmerge).",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:customers_customer_change", args=[survivor.pk]))
