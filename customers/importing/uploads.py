"""Import files kept between the steps of an import, in the database.

An import in steps (the back office's upload then confirm; Bigcapital's upload, map, preview,
import) spans several requests, which a load balancer may send to different servers on different
machines. So the file is stored where all of them read it: ImportUpload and its ImportUploadPart
rows, a megabyte each, so that neither writing nor reading one holds a large file in one value.

An upload lives a day (LIFETIME); an expired one is not found, and `manage.py purge_expired`
deletes it. The file is read back into a spooled temporary file (memory up to SPOOL_BYTES, then
the request's own disk) for the import to read: the import's COPY holds the database connection,
so the parts cannot be fetched while it runs.
"""

import secrets
import tempfile
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import BinaryIO

from django.db import transaction
from django.utils import timezone

from common.errors import ApplicationError
from organizations.models import Organization

from ..fields import Access, Kind
from ..models import ImportUpload, ImportUploadPart
from .cells import (
    COLUMNS,
    ColumnError,
    column_name,
    header_key,
    mapped_header,
    resolve_columns,
)
from .readers import FileRefused, open_source

LIFETIME = timedelta(hours=24)
PART_BYTES = 2**20
SPOOL_BYTES = 8 * 2**20


def store(
    *,
    organization: Organization,
    chunks: Iterable[bytes],
    filename: str,
    fmt: str,
    params: dict,
    user=None,
) -> ImportUpload:
    """Keep a file for a later step of its import; FileRefused if it cannot be read as `fmt` or
    holds no customer, and then nothing is kept."""
    with transaction.atomic():
        upload = ImportUpload.objects.create(
            organization=organization,
            import_id=secrets.token_hex(16),
            filename=filename[:255],
            format=fmt,
            size=0,
            params=params,
            uploaded_by=user,
            expires_at=timezone.now() + LIFETIME,
        )
        with _spool() as copy:
            for number, part in enumerate(_parts(chunks)):
                ImportUploadPart.objects.create(
                    organization=organization, upload=upload, number=number, data=part
                )
                copy.write(part)
            upload.size = copy.tell()
            copy.seek(0)
            upload.sheet_columns = _columns(copy, fmt)
        _save(upload, "size", "sheet_columns")
    return upload


def _save(upload: ImportUpload, *names: str) -> None:
    """Write these fields of the upload, by organization and id (every statement on a table that
    grows with the book names the organization: tests/reliability/test_routed_queries.py)."""
    ImportUpload.objects.filter(organization_id=upload.organization_id, pk=upload.pk).update(
        **{name: getattr(upload, name) for name in names}
    )


def _parts_of(upload: ImportUpload):
    return ImportUploadPart.objects.filter(organization_id=upload.organization_id, upload=upload)


def discard(upload: ImportUpload) -> None:
    """Delete an upload and its file."""
    _parts_of(upload).delete()
    ImportUpload.objects.filter(organization_id=upload.organization_id, pk=upload.pk).delete()


def _parts(chunks: Iterable[bytes]) -> Iterable[bytes]:
    """The chunks regrouped into parts of PART_BYTES (the last one shorter)."""
    pending = bytearray()
    for chunk in chunks:
        pending += chunk
        while len(pending) >= PART_BYTES:
            yield bytes(pending[:PART_BYTES])
            del pending[:PART_BYTES]
    if pending:
        yield bytes(pending)


def _columns(stream: BinaryIO, fmt: str) -> list[str]:
    source = open_source(stream, fmt)
    if next(source.rows, None) is None:
        raise FileRefused("The file has a header but no customers.")
    return [column_name(name) for name in source.header]


def set_mapping(upload: ImportUpload, entries: list[dict]) -> None:
    """Bigcapital's mapping step: which sheet column fills which customer field.

    Each entry is `{"from": column, "to": field, "dateFormat"?}`; `to` is a field's name in any
    spelling the file's own header could use (cells.COLUMNS). Refused with Bigcapital's error
    types: a column the file lacks or a field that cannot be imported (INVALID_MAP_ATTRS), one
    column or one field mapped twice (DUPLICATED_FROM_MAP_ATTR, DUPLICATED_TO_MAP_ATTR), a date
    format on a field that is not a date (INVALID_MAP_DATE_FORMAT); and, beyond Bigcapital, a
    mapping that leaves out a required field, so that no import can fail on it later.
    """
    if upload.result is not None:
        raise ApplicationError(
            409, "IMPORT_ALREADY_DONE", "This file has been imported: upload it again to remap it."
        )
    mode, match = upload.params.get("mode", "create"), upload.params.get("match", "code")
    writable = "on_update" if mode == "update" else "on_create"
    columns, fields, mapping = set(upload.sheet_columns), set(), []
    for index, entry in enumerate(entries):
        where = f"mapping[{index}]"
        column, to = entry["from"], entry["to"]
        field = COLUMNS.get(header_key(to))
        if column not in columns:
            raise ApplicationError(
                400, "INVALID_MAP_ATTRS", f"The file has no column {column!r}.", f"{where}.from"
            )
        if field is None or getattr(field, writable) is Access.READ_ONLY or entry.get("group"):
            raise ApplicationError(
                400,
                "INVALID_MAP_ATTRS",
                f"{to!r} is not a customer field that a file can fill: see resourceColumns.",
                f"{where}.to",
            )
        if any(taken["from"] == column for taken in mapping):
            raise ApplicationError(
                400,
                "DUPLICATED_FROM_MAP_ATTR",
                f"The column {column!r} is mapped twice.",
                f"{where}.from",
            )
        if field.name in fields:
            raise ApplicationError(
                400,
                "DUPLICATED_TO_MAP_ATTR",
                f"The field {field.name} is mapped twice.",
                f"{where}.to",
            )
        date_format = entry.get("dateFormat")
        if date_format is not None and field.kind is not Kind.DATETIME:
            raise ApplicationError(
                400,
                "INVALID_MAP_DATE_FORMAT",
                f"{field.name} is not a date: it takes no date format.",
                f"{where}.dateFormat",
            )
        fields.add(field.name)
        mapped = {"from": column, "to": field.name}
        mapping.append(mapped if date_format is None else {**mapped, "dateFormat": date_format})
    header = mapped_header(upload.sheet_columns, column_mapping(mapping))
    try:
        resolve_columns(header, mode=mode, match=match, ignore_unknown=True)
    except ColumnError as error:
        message = str(error).replace("column", "field").replace("Column", "Field")
        raise ApplicationError(400, "VALIDATION_ERROR", message, "mapping") from None
    upload.mapping = mapping
    _save(upload, "mapping")


def column_mapping(mapping: list[dict]) -> dict[str, str]:
    """A stored mapping as customer_import takes it: sheet column → field."""
    return {entry["from"]: entry["to"] for entry in mapping}


def date_formats(mapping: list[dict]) -> dict[str, str]:
    """A stored mapping's date formats as customer_import takes them: field → format."""
    return {entry["to"]: entry["dateFormat"] for entry in mapping if "dateFormat" in entry}


def find(organization: Organization, import_id: str, *, lock: bool = False) -> ImportUpload | None:
    """The organization's upload of that id, unless it has expired; `lock`ed until the end of
    the transaction if asked."""
    uploads = ImportUpload.objects.filter(
        organization=organization, import_id=import_id, expires_at__gt=timezone.now()
    )
    return (uploads.select_for_update() if lock else uploads).first()


def imported(upload: ImportUpload, answer: dict) -> None:
    """The upload's rows were written: keep the answer to replay, and drop the file."""
    upload.result, upload.imported_at = answer, timezone.now()
    _save(upload, "result", "imported_at")
    _parts_of(upload).delete()


def run(upload: ImportUpload, *, actor, dry_run: bool):
    """customer_import on the upload's file, with its options and its mapping if it has one (the
    back office's uploads have none: their own header names the fields). ImportRefused if the
    file cannot be imported at all."""
    from ..services import customer_import  # the service imports this package's machinery

    mapping = upload.mapping
    with read(upload) as stream:
        return customer_import(
            organization=upload.organization,
            stream=stream,
            fmt=upload.format,
            actor=actor,
            dry_run=dry_run,
            mapping=None if mapping is None else column_mapping(mapping),
            date_formats=None if mapping is None else date_formats(mapping),
            **upload.params,
        )


def read(upload: ImportUpload) -> BinaryIO:
    """The upload's file, from its first byte; the caller closes it."""
    copy = _spool()
    parts = _parts_of(upload)
    for number in list(parts.order_by("number").values_list("number", flat=True)):
        copy.write(parts.filter(number=number).values_list("data", flat=True).get())
    copy.seek(0)
    return copy


def _spool() -> BinaryIO:
    return tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)


def purge_expired(now: datetime | None = None) -> int:
    """Delete the uploads that have expired, with their files; how many."""
    expired = ImportUpload.objects.filter(expires_at__lte=now or timezone.now())
    ImportUploadPart.objects.filter(upload__in=expired).delete()
    _, deleted = expired.delete()
    return deleted.get(ImportUpload._meta.label, 0)
