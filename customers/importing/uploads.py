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

from organizations.models import Organization

from ..models import ImportUpload, ImportUploadPart
from .cells import column_name
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
                ImportUploadPart.objects.create(upload=upload, number=number, data=part)
                copy.write(part)
            upload.size = copy.tell()
            copy.seek(0)
            upload.sheet_columns = _columns(copy, fmt)
        upload.save(update_fields=["size", "sheet_columns"])
    return upload


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


def find(organization: Organization, import_id: str) -> ImportUpload | None:
    """The organization's upload of that id, unless it has expired."""
    return ImportUpload.objects.filter(
        organization=organization, import_id=import_id, expires_at__gt=timezone.now()
    ).first()


def read(upload: ImportUpload) -> BinaryIO:
    """The upload's file, from its first byte; the caller closes it."""
    copy = _spool()
    numbers = upload.parts.order_by("number").values_list("number", flat=True)
    for number in list(numbers):
        data = upload.parts.filter(number=number).values_list("data", flat=True).get()
        copy.write(data)
    copy.seek(0)
    return copy


def _spool() -> BinaryIO:
    return tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)


def purge_expired(now: datetime | None = None) -> int:
    """Delete the uploads that have expired, with their files; how many."""
    expired = ImportUpload.objects.filter(expires_at__lte=now or timezone.now())
    _, deleted = expired.delete()
    return deleted.get(ImportUpload._meta.label, 0)
