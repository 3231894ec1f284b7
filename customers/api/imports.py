"""Bulk files over HTTP, as Bigcapital's clients send them.

Import is Bigcapital's four steps, each its own request, so any server may answer any of them
(the file is kept in the database: customers/importing/uploads.py):

    POST /api/import/file              multipart `file`, `resource=customers`, `params` (JSON)
    POST /api/import/{id}/mapping      {"mapping": [{"from": column, "to": field}, …]}
    GET  /api/import/{id}/preview      the import run and rolled back: what it would do
    POST /api/import/{id}/import       the import, written

and `GET /api/import/{id}` (the upload's state), `GET /api/import/sample` (a file to start
from), `GET /api/export` (the organization's customers, CSV or XLSX by the Accept header).

Every import runs customers.services.customer_import, as the command and the back office do: the
same checks per row, the same history, all or nothing unless `params` says `skipInvalid`.
Bigcapital imports the valid rows and skips the others; here a file with a failed row writes
nothing by default, and the answer says why, row by row (docs/compatibility.md).
"""

import tempfile

from django.core.validators import RegexValidator
from django.db import transaction
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from common.actors import Actor, Door
from common.errors import ApplicationError
from common.fields import StrictCharField
from common.negotiation import FileDownloadNegotiation
from common.parsers import UploadParser, loads_strict
from common.query_params import read_query_params
from common.schema import ERROR_RESPONSES, ORGANIZATION_HEADER, error_response
from common.serializers import StrictInputSerializer
from customers.fields import Access, writable
from customers.importing import uploads
from customers.importing.cells import DATE_FORMATS
from customers.importing.export import customer_export, write_rows
from customers.importing.readers import FileRefused
from customers.importing.service import MATCHES, MODES, ImportRefused
from customers.models import Customer, ImportUpload

RESOURCE = "Customer"
RESOURCE_SPELLINGS = ("customers", "customer", "Customers", "Customer")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CONTENT_TYPES = {"csv": "text/csv", "xlsx": XLSX_TYPE}
MAX_MAPPING = 500
SPOOL_BYTES = 8 * 2**20

_ERRORS = {code: ERROR_RESPONSES[code] for code in (400, 401, 403)}
_NOT_FOUND = error_response("No such import in this organization, or it is older than a day.")
IMPORT_ID = OpenApiParameter(
    "import_id",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The `importId` that `POST /api/import/file` answered.",
)


# Requests ------------------------------------------------------------------------------------


class ImportParamsSerializer(StrictInputSerializer):
    """`params` of the upload, a JSON object: how the file's rows meet the book."""

    mode = serializers.ChoiceField(
        choices=MODES,
        default="create",
        help_text="`create` every row (Bigcapital's only mode), `update` customers matched by "
        "`match`, or `upsert`: either.",
    )
    match = serializers.ChoiceField(
        choices=MATCHES,
        default="code",
        help_text="How `update` and `upsert` find a row's customer: by `code` or by `email`.",
    )
    skipInvalid = serializers.BooleanField(
        default=False,
        help_text="Write the valid rows and skip the others, as Bigcapital does. By default a "
        "file with a failed row writes nothing.",
    )


class ImportFileSerializer(serializers.Serializer):
    file = serializers.FileField(
        allow_empty_file=True, help_text="The customers: CSV (UTF-8) or XLSX, with a header row."
    )
    resource = serializers.ChoiceField(
        choices=RESOURCE_SPELLINGS, help_text="What the file holds: customers."
    )
    params = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=4096,
        help_text='A JSON object: `{"mode": "create"|"update"|"upsert", "match": "code"|"email", '
        '"skipInvalid": false}`, each optional.',
    )

    def validate_params(self, raw: str) -> dict:
        try:
            given = loads_strict(raw) if raw.strip() else {}
        except (ValueError, RecursionError):
            raise serializers.ValidationError("Must be a JSON object.") from None
        return read_params(given)


def read_params(given) -> dict:
    """The upload's `params`, checked, as customer_import takes them."""
    params = ImportParamsSerializer(data=given)
    if not params.is_valid():
        raise serializers.ValidationError(params.errors)
    data = params.validated_data
    return {"mode": data["mode"], "match": data["match"], "skip_invalid": data["skipInvalid"]}


def public_params(params: dict) -> dict:
    """Stored `params` as the API names them."""
    return {
        "mode": params.get("mode", "create"),
        "match": params.get("match", "code"),
        "skipInvalid": params.get("skip_invalid", False),
    }


# DRF refuses NUL in any text; saying so in the schema (as a pattern) keeps generated clients and
# schema-driven tests from sending it.
NO_NUL = RegexValidator(r"^[^\u0000]*$", "Null characters are not allowed.")

MappingEntrySerializer = type(
    "MappingEntrySerializer",
    (StrictInputSerializer,),
    {
        "__module__": __name__,
        "__doc__": "One sheet column and the customer field it fills.",
        # `from` is a Python keyword, so the fields are given as a namespace, not a class body.
        "from": serializers.CharField(
            max_length=255,
            trim_whitespace=False,
            validators=[NO_NUL],
            help_text="A column of the file's header.",
        ),
        # The house's text field: trimmed, and its schema says it is neither blank nor NUL.
        "to": StrictCharField(
            max_length=64,
            help_text="A customer field, as `resourceColumns` names it (any spelling the "
            "file's own header could use: `displayName`, `display_name`, `Display Name`).",
        ),
        "group": serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=0,
            help_text="Bigcapital's nested fields; a customer has none, so leave it out.",
        ),
        "dateFormat": serializers.ChoiceField(
            choices=list(DATE_FORMATS),
            required=False,
            help_text="How a date column is written, for `openingBalanceAt`; ISO 8601 if left out.",
        ),
    },
)


class MappingSerializer(StrictInputSerializer):
    mapping = serializers.ListField(
        child=MappingEntrySerializer(),
        max_length=MAX_MAPPING,
        help_text="Columns not listed are skipped, and answered as `unmappedColumns`.",
    )


class SampleParamsSerializer(serializers.Serializer):
    resource = serializers.ChoiceField(choices=RESOURCE_SPELLINGS)
    format = serializers.ChoiceField(
        choices=("csv", "xlsx"), default="xlsx", help_text="XLSX when left out, as Bigcapital."
    )


class ExportParamsSerializer(serializers.Serializer):
    resource = serializers.ChoiceField(choices=RESOURCE_SPELLINGS)


# Answers -------------------------------------------------------------------------------------


ImportRef = inline_serializer(
    "ImportRef",
    {"importId": serializers.CharField(), "resource": serializers.CharField()},
)

ImportResultSerializer = inline_serializer(
    "ImportResult",
    {
        "resource": serializers.CharField(),
        "createdCount": serializers.IntegerField(),
        "updatedCount": serializers.IntegerField(help_text="update and upsert modes only."),
        "unchangedCount": serializers.IntegerField(help_text="Matched rows already so."),
        "skippedCount": serializers.IntegerField(help_text="Rows not written."),
        "totalCount": serializers.IntegerField(),
        "errorsCount": serializers.IntegerField(help_text="Rows that failed their checks."),
        "errors": serializers.ListField(
            child=inline_serializer(
                "ImportRowError",
                {
                    "rowNumber": serializers.IntegerField(help_text="As in the file (header: 1)."),
                    "errorCode": serializers.CharField(),
                    "errorMessage": serializers.CharField(),
                    "field": serializers.CharField(required=False),
                },
            ),
            help_text="The first 1,000 problems.",
        ),
        "unmappedColumns": serializers.ListField(child=serializers.CharField()),
        "unmappedColumnsCount": serializers.IntegerField(),
        "imported": serializers.BooleanField(help_text="The rows were written (never on preview)."),
        "possibleDuplicates": serializers.ListField(
            child=inline_serializer(
                "ImportRowDuplicate",
                {
                    "rowNumber": serializers.IntegerField(),
                    "customerId": serializers.IntegerField(
                        allow_null=True, help_text="The book's customer it looks like."
                    ),
                    "otherRowNumber": serializers.IntegerField(
                        allow_null=True, help_text="Or the earlier row of the file."
                    ),
                    "score": serializers.FloatField(),
                },
            ),
            help_text="New customers strongly like an existing one or an earlier row "
            "(created all the same: Counterpart's addition, so the preview shows them).",
        ),
    },
)


def resource_columns() -> list[dict]:
    """Bigcapital's `resourceColumns`: the fields a file can fill, in the API's order."""
    return [
        {"key": field.name, "name": field.label, "required": field.on_create is Access.REQUIRED}
        for field in writable("create")
    ]


def import_ref(upload: ImportUpload) -> dict:
    return {"importId": upload.import_id, "resource": RESOURCE}


def import_answer(upload: ImportUpload, result) -> dict:
    written = result.created + result.updated + result.unchanged if result.applied else 0
    mapped = uploads.column_mapping(upload.mapping or [])
    unmapped = [column for column in upload.sheet_columns if column not in mapped]
    return {
        "resource": RESOURCE,
        "createdCount": result.created,
        "updatedCount": result.updated,
        "unchangedCount": result.unchanged,
        "skippedCount": result.rows - written,
        "totalCount": result.rows,
        "errorsCount": result.failed,
        "errors": [
            {
                "rowNumber": error.row,
                "errorCode": "VALIDATION_ERROR",
                "errorMessage": f"{error.field}: {error.message}" if error.field else error.message,
                **({"field": error.field} if error.field else {}),
            }
            for error in result.errors
        ],
        "unmappedColumns": unmapped,
        "unmappedColumnsCount": len(unmapped),
        "imported": result.written,
        "possibleDuplicates": [
            {
                "rowNumber": duplicate.row,
                "customerId": duplicate.other_id,
                "otherRowNumber": duplicate.other_row,
                "score": duplicate.score,
            }
            for duplicate in result.duplicates
        ],
    }


def import_meta(upload: ImportUpload) -> dict:
    return {
        **import_ref(upload),
        "tenantId": upload.organization_id,
        "filename": upload.filename,
        "sheetColumns": upload.sheet_columns,
        "params": public_params(upload.params),
        "map": upload.mapping or [],
        "isMapped": upload.mapping is not None,
        "createdAt": upload.created_at,
        "expiresAt": upload.expires_at,
        "importedAt": upload.imported_at,
        "result": upload.result,
    }


# Views ---------------------------------------------------------------------------------------


class ImportStep(APIView):
    """A step on an upload of the request's organization; another's, or an expired one, is 404."""

    def upload(self, import_id: str, *, lock: bool = False) -> ImportUpload:
        upload = uploads.find(self.request.auth.organization, import_id, lock=lock)
        if upload is None:
            raise ApplicationError(
                404,
                "NOT_FOUND",
                "No such import in this organization: unknown, or uploaded more than a day ago.",
            )
        return upload

    def run(self, upload: ImportUpload, *, dry_run: bool):
        if upload.mapping is None:
            raise ApplicationError(
                400,
                "IMPORT_FILE_NOT_MAPPED",
                "Map the file's columns first: POST /api/import/{id}/mapping.",
            )
        principal = self.request.auth
        actor = Actor(door=Door.IMPORT, user=principal.user, api_key=principal.api_key)
        try:
            return uploads.run(upload, actor=actor, dry_run=dry_run)
        except ImportRefused as error:
            raise ApplicationError(400, "IMPORTED_FILE_INVALID", str(error)) from None


class ImportFileView(APIView):
    parser_classes = [UploadParser]

    @extend_schema(
        operation_id="import_file",
        summary="Upload a file of customers to import (Bigcapital's first import step)",
        description="Keeps the file for a day and answers its columns and the fields they can "
        "fill. Nothing is imported yet: map the columns, preview, then import.",
        parameters=[ORGANIZATION_HEADER],
        request={"multipart/form-data": ImportFileSerializer},
        responses={
            200: inline_serializer(
                "ImportUploaded",
                {
                    "import": ImportRef,
                    "sheetColumns": serializers.ListField(child=serializers.CharField()),
                    "resourceColumns": serializers.ListField(child=serializers.DictField()),
                },
            ),
            413: error_response("The file is larger than API_MAX_UPLOAD_BYTES."),
            415: error_response("The body is not multipart/form-data."),
            **_ERRORS,
        },
    )
    def post(self, request):
        form = ImportFileSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        file = form.validated_data["file"]
        params = form.validated_data.get("params") or read_params({})
        try:
            upload = uploads.store(
                organization=request.auth.organization,
                chunks=file.chunks(),
                filename=file.name or "",
                fmt=_file_format(file),
                params=params,
                user=request.auth.user,
            )
        except FileRefused as error:
            raise ApplicationError(400, "IMPORTED_FILE_INVALID", str(error), "file") from None
        return Response(
            {
                "import": import_ref(upload),
                "sheetColumns": upload.sheet_columns,
                "resourceColumns": resource_columns(),
            }
        )


def _file_format(file) -> str:
    name = (file.name or "").lower()
    if name.endswith(".csv"):
        return "csv"
    if name.endswith(".xlsx"):
        return "xlsx"
    given = (file.content_type or "").partition(";")[0].strip().lower()
    for fmt, content_type in CONTENT_TYPES.items():
        if given == content_type:
            return fmt
    raise ApplicationError(
        400,
        "IMPORTED_FILE_EXTENSION_INVALID",
        "Upload a CSV (.csv, text/csv) or an Excel workbook (.xlsx); this file is neither.",
        "file",
    )


class ImportMappingView(ImportStep):
    @extend_schema(
        operation_id="import_mapping",
        summary="Map the file's columns to customer fields (Bigcapital's second import step)",
        description="Refused with Bigcapital's error types: a column the file lacks or a field "
        "that cannot be filled (`INVALID_MAP_ATTRS`), a column or a field twice "
        "(`DUPLICATED_FROM_MAP_ATTR`, `DUPLICATED_TO_MAP_ATTR`), a date format on a field that is "
        "not a date (`INVALID_MAP_DATE_FORMAT`); and a mapping without a required field.",
        parameters=[ORGANIZATION_HEADER, IMPORT_ID],
        request=MappingSerializer,
        responses={
            200: inline_serializer("ImportMapped", {"import": ImportRef}),
            404: _NOT_FOUND,
            409: error_response("The file has been imported (IMPORT_ALREADY_DONE)."),
            **_ERRORS,
        },
    )
    def post(self, request, import_id):
        body = MappingSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload = self.upload(import_id)
        uploads.set_mapping(upload, body.validated_data["mapping"])
        return Response({"import": import_ref(upload)})


class ImportPreviewView(ImportStep):
    @extend_schema(
        operation_id="import_preview",
        summary="What importing the file would do, without writing (Bigcapital's third step)",
        description="The import runs in full, every check included, and is rolled back.",
        parameters=[ORGANIZATION_HEADER, IMPORT_ID],
        responses={200: ImportResultSerializer, 404: _NOT_FOUND, **_ERRORS},
    )
    def get(self, request, import_id):
        upload = self.upload(import_id)
        return Response(import_answer(upload, self.run(upload, dry_run=True)))


class ImportProcessView(ImportStep):
    @extend_schema(
        operation_id="import_process",
        summary="Import the file (Bigcapital's last import step)",
        description="All or nothing: a failed row writes nothing, unless the upload's `params` "
        "asked for `skipInvalid`. `imported` says whether rows were written. Once written, the "
        "same request answers the same result again and writes nothing more.",
        parameters=[ORGANIZATION_HEADER, IMPORT_ID],
        request=None,
        responses={200: ImportResultSerializer, 404: _NOT_FOUND, **_ERRORS},
    )
    def post(self, request, import_id):
        with transaction.atomic():
            # Locked: a second request for the same upload waits, then replays the first's answer.
            upload = self.upload(import_id, lock=True)
            if upload.result is not None:
                return Response(upload.result)
            result = self.run(upload, dry_run=False)
            answer = import_answer(upload, result)
            if result.written:
                uploads.imported(upload, answer)
        return Response(answer)


class ImportMetaView(ImportStep):
    @extend_schema(
        operation_id="import_meta",
        summary="An upload's state: its columns, parameters, mapping and result",
        parameters=[ORGANIZATION_HEADER, IMPORT_ID],
        responses={
            200: inline_serializer(
                "ImportMeta",
                {
                    "importId": serializers.CharField(),
                    "resource": serializers.CharField(),
                    "tenantId": serializers.IntegerField(help_text="The organization's id."),
                    "filename": serializers.CharField(),
                    "sheetColumns": serializers.ListField(child=serializers.CharField()),
                    "params": serializers.DictField(),
                    "map": serializers.ListField(child=serializers.DictField()),
                    "isMapped": serializers.BooleanField(),
                    "createdAt": serializers.DateTimeField(),
                    "expiresAt": serializers.DateTimeField(),
                    "importedAt": serializers.DateTimeField(allow_null=True),
                    "result": serializers.DictField(allow_null=True),
                },
            ),
            404: _NOT_FOUND,
            **_ERRORS,
        },
    )
    def get(self, request, import_id):
        return Response(import_meta(self.upload(import_id)))


_FILE_ANSWER = {
    (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="CSV, UTF-8."),
    (200, XLSX_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description="An Excel workbook."),
}


class ImportSampleView(APIView):
    content_negotiation_class = FileDownloadNegotiation

    @extend_schema(
        operation_id="import_sample",
        summary="A sample file of customers to fill in and import",
        parameters=[ORGANIZATION_HEADER, SampleParamsSerializer],
        responses={**_FILE_ANSWER, **_ERRORS},
    )
    def get(self, request):
        params = read_query_params(SampleParamsSerializer, request.query_params)
        return _file(SAMPLE_ROWS, params["format"], "customers-sample")


class ExportView(APIView):
    content_negotiation_class = FileDownloadNegotiation

    @extend_schema(
        operation_id="export",
        summary="The organization's customers as a file: CSV or XLSX, by the Accept header",
        description="`Accept: text/csv` or `Accept: " + XLSX_TYPE + "`; no Accept, or `*/*`, is "
        "CSV; anything else is 406. The columns are the import's, so the file imports back "
        "unchanged.",
        parameters=[ORGANIZATION_HEADER, ExportParamsSerializer],
        responses={
            **_FILE_ANSWER,
            406: error_response("Accept names neither CSV nor XLSX (NOT_ACCEPTABLE)."),
            **_ERRORS,
        },
    )
    def get(self, request):
        read_query_params(ExportParamsSerializer, request.query_params)
        fmt = export_format(request.META.get("HTTP_ACCEPT", ""))
        customers = Customer.objects.filter(organization=request.auth.organization)
        return _file(customers, fmt, "customers")


def export_format(accept: str) -> str:
    """The file format an Accept header asks for, as Bigcapital reads it (a media type anywhere
    in the header); a client that accepts anything gets CSV."""
    accept = accept.lower()
    if "text/csv" in accept:
        return "csv"
    if XLSX_TYPE in accept:
        return "xlsx"
    if not accept.strip() or "*/*" in accept or "text/*" in accept:
        return "csv"
    raise ApplicationError(
        406,
        "NOT_ACCEPTABLE",
        f"The export is text/csv or {XLSX_TYPE}: send one of them in Accept.",
    )


def _file(rows, fmt: str, name: str) -> FileResponse:
    # Written to a spooled file first: memory up to 8 MB, then this request's disk; then sent.
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (the response closes it)
    if isinstance(rows, list):
        write_rows(rows, fmt=fmt, out=spool)
    else:
        customer_export(queryset=rows, fmt=fmt, out=spool)
    spool.seek(0)
    return FileResponse(
        spool, as_attachment=True, filename=f"{name}.{fmt}", content_type=CONTENT_TYPES[fmt]
    )


def _sample(**values) -> tuple:
    return tuple(values.get(field.name) for field in writable("create"))


SAMPLE_ROWS = [
    _sample(
        customerType="business",
        displayName="Acme Trading Ltd",
        code="CUS-0001",
        companyName="Acme Trading Ltd",
        email="accounts@acme.example",
        workPhone="+44 20 7946 0000",
        billingAddress1="1 High Street",
        billingAddressCity="London",
        billingAddressCountry="GB",
        billingAddressPostcode="EC1A 1BB",
        currencyCode="GBP",
        active=True,
    ),
    _sample(
        customerType="individual",
        displayName="Jane Doe",
        code="CUS-0002",
        firstName="Jane",
        lastName="Doe",
        email="jane.doe@example.com",
        currencyCode="USD",
        active=True,
    ),
]
