"""Import and export in the customer admin, through the same service as the commands.

Import is two steps: the upload runs the import as a dry run and shows what would change (the
counts and every error); "Confirm" runs it for real on the same stored upload. The upload is
in the database (customers/importing/uploads.py), so whichever server gets the confirmation
reads it. Export writes the
selected customers (an action) or the filtered changelist (a button) as a file.

Staff who are not superusers import into, and export from, only organizations they belong to.
"""

import secrets
import tempfile

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from common.actors import Actor, Door
from organizations.admin_scoping import visible_organizations
from organizations.models import Organization

from .importing import uploads
from .importing.export import EXPORT_FORMATS, customer_export
from .importing.readers import FORMATS, FileRefused, format_for
from .importing.service import MATCHES, MODES, ImportRefused
from .models import ImportUpload

# The session names the previewed upload; the file itself is in the database (importing/uploads),
# so the confirmation works whichever server receives it, within the upload's day.
SESSION_KEY = "customer_import"
CONTENT_TYPES = {
    "csv": "text/csv",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class ImportForm(forms.Form):
    organization = forms.ModelChoiceField(queryset=Organization.objects.none())
    file = forms.FileField(help_text="CSV (UTF-8), JSON, JSON Lines or XLSX.")
    format = forms.ChoiceField(
        choices=[("", "From the file name"), *((name, name.upper()) for name in FORMATS)],
        required=False,
    )
    mode = forms.ChoiceField(choices=[(mode, mode.title()) for mode in MODES])
    match = forms.ChoiceField(choices=[(match, match.title()) for match in MATCHES])
    skip_invalid = forms.BooleanField(required=False, help_text="Write the valid rows.")
    ignore_unknown_columns = forms.BooleanField(required=False)

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = visible_organizations(request)

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload is not None:
            try:
                cleaned["format"] = format_for(upload.name, cleaned.get("format") or None)
            except FileRefused as error:
                raise forms.ValidationError(str(error)) from None
        return cleaned


class CustomerImportExportMixin:
    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="{}_{}_import".format(*info),
            ),
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="{}_{}_export".format(*info),
            ),
            *super().get_urls(),
        ]

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.has_view_permission(request):
            actions["export_selected_customers"] = (
                CustomerImportExportMixin.export_selected_customers,
                "export_selected_customers",
                "Export selected customers",
            )
        return actions

    def export_selected_customers(self, request, queryset):
        return self._export(request, queryset, "csv")

    def export_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        fmt = request.GET.get("export_format", "csv")
        if fmt not in EXPORT_FORMATS:
            fmt = "csv"
        request.GET = request.GET.copy()
        request.GET.pop("export_format", None)
        changelist = self.get_changelist_instance(request)
        return self._export(request, changelist.get_queryset(request), fmt)

    def _export(self, request, queryset, fmt):
        queryset = queryset.filter(organization__in=visible_organizations(request))
        # Written to a spooled file first: memory up to 8 MB, then disk, then streamed out.
        spool = tempfile.SpooledTemporaryFile(max_size=8 * 2**20)  # noqa: SIM115 (the response closes it)
        customer_export(queryset=queryset, fmt=fmt, out=spool)
        spool.seek(0)
        return FileResponse(
            spool,
            as_attachment=True,
            filename=f"customers.{fmt}",
            content_type=CONTENT_TYPES[fmt],
        )

    def _store(self, request, form) -> ImportUpload | None:
        """The uploaded file, kept for the confirmation (which any server may receive)."""
        data = form.cleaned_data
        try:
            return uploads.store(
                organization=data["organization"],
                chunks=data["file"].chunks(),
                filename=data["file"].name,
                fmt=data["format"],
                params=self._options(data),
                user=request.user,
            )
        except FileRefused as error:
            form.add_error("file", str(error))
            return None

    def import_view(self, request):
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        if request.method == "POST" and "confirm" in request.POST:
            return self._confirm(request)
        form = ImportForm(request.POST or None, request.FILES or None, request=request)
        preview = None
        if request.method == "POST" and form.is_valid():
            upload = self._store(request, form)
            preview = upload and self._run(request, form, upload, dry_run=True)
            if preview is not None and not preview.applied:
                uploads.discard(upload)  # nothing to confirm: the errors are shown, not kept
            elif preview is not None:
                token = secrets.token_urlsafe(16)
                request.session[SESSION_KEY] = {
                    "token": token,
                    "organization": upload.organization_id,
                    "import_id": upload.import_id,
                }
                preview.token = token
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Import customers",
            "form": form,
            "preview": preview,
        }
        return TemplateResponse(request, "admin/customers/customer/import.html", context)

    def _confirm(self, request):
        pending = request.session.pop(SESSION_KEY, None)
        upload = None
        if pending and pending["token"] == request.POST.get("confirm"):
            if not visible_organizations(request).filter(pk=pending["organization"]).exists():
                raise PermissionDenied
            organization = Organization.objects.get(pk=pending["organization"])
            upload = uploads.find(organization, pending["import_id"])
        if upload is None:  # no preview, another one's, or older than uploads.LIFETIME
            self.message_user(
                request, "That preview has expired: upload the file again.", messages.ERROR
            )
            return HttpResponseRedirect(reverse("admin:customers_customer_import"))
        result = self._run(request, None, upload, dry_run=False)
        uploads.discard(upload)
        if result is not None and result.written:
            self.message_user(
                request,
                f"Imported {result.rows} rows: created {result.created}, updated "
                f"{result.updated}, unchanged {result.unchanged}, failed {result.failed}.",
                messages.SUCCESS,
            )
            if result.duplicates:
                self.message_user(
                    request,
                    f"{len(result.duplicates)} of the new customers look like others: see "
                    'each one\'s possible duplicates on its "Merge…" page.',
                    messages.WARNING,
                )
        else:
            self.message_user(
                request, "Nothing was imported: the file changed its verdict.", messages.ERROR
            )
        return HttpResponseRedirect(reverse("admin:customers_customer_changelist"))

    @staticmethod
    def _options(data) -> dict:
        return {
            "mode": data["mode"],
            "match": data["match"],
            "skip_invalid": data["skip_invalid"],
            "ignore_unknown_columns": data["ignore_unknown_columns"],
        }

    def _run(self, request, form, upload: ImportUpload, *, dry_run: bool):
        try:
            return uploads.run(
                upload, actor=Actor(door=Door.IMPORT, user=request.user), dry_run=dry_run
            )
        except ImportRefused as error:
            if form is not None:
                form.add_error("file", str(error))
            else:
                self.message_user(request, f"Nothing was imported: {error}", messages.ERROR)
            uploads.discard(upload)
            return None
