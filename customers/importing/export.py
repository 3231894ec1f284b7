"""The customer export: one organization's customers as CSV, JSON or XLSX, streamed.

The columns are the fields a customer is created with, named as the API names them, so what the
export writes the import reads back unchanged. Text that a spreadsheet would run as a formula is
neutralised in CSV and XLSX (see cells.py); JSON is not a spreadsheet and keeps every value as is.
"""

import csv
import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import BinaryIO

from django.db.models import QuerySet

from common.fields import json_value

from ..fields import Kind, writable
from ..models import Customer
from .cells import TEXT_KINDS, neutralise

FIELDS = writable("create")
EXPORT_FORMATS = ("csv", "json", "xlsx")
CHUNK = 2000


def file_value(value, kind: Kind | None = None) -> str:
    """A value as a CSV cell: the text the import turns back into the same value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, dt.datetime):
        return json_value(value)
    if isinstance(value, str) and kind in TEXT_KINDS:
        return neutralise(value)
    return str(value)


def _rows(queryset: QuerySet) -> Iterator[tuple]:
    attributes = [field.attribute for field in FIELDS]
    return queryset.order_by("pk").values_list(*attributes).iterator(chunk_size=CHUNK)


def customer_export(*, queryset: QuerySet[Customer], fmt: str, out: BinaryIO) -> int:
    """Write the customers of `queryset` (scoped by the caller) to `out`; returns a count."""
    return write_rows(_rows(queryset), fmt=fmt, out=out)


def write_rows(rows, *, fmt: str, out: BinaryIO) -> int:
    """Rows of the export's columns (FIELDS, in order, as the database holds the values) to
    `out` as `fmt`; returns a count."""
    writers = {"csv": _csv, "json": _json, "xlsx": _xlsx}
    return writers[fmt](rows, out)


class _Text:
    """A binary stream as a text one that writes UTF-8 straight through."""

    def __init__(self, out: BinaryIO):
        self.out = out

    def write(self, text: str) -> None:
        self.out.write(text.encode())


def _csv(rows, out: BinaryIO) -> int:
    writer = csv.writer(_Text(out))
    writer.writerow([field.name for field in FIELDS])
    kinds = [field.kind for field in FIELDS]
    count = 0
    for count, row in enumerate(rows, start=1):  # noqa: B007 (the count is the result)
        writer.writerow([file_value(value, kind) for value, kind in zip(row, kinds, strict=True)])
    return count


def _json(rows, out: BinaryIO) -> int:
    names = [field.name for field in FIELDS]
    out.write(b"[")
    count = 0
    for count, row in enumerate(rows, start=1):
        item = {name: json_value(value) for name, value in zip(names, row, strict=True)}
        out.write(b"\n" if count == 1 else b",\n")
        out.write(json.dumps(item, ensure_ascii=False).encode())
    out.write(b"\n]\n")
    return count


def _xlsx_value(value, kind: Kind):
    if isinstance(value, str) and kind in TEXT_KINDS:
        return neutralise(value)
    if isinstance(value, dt.datetime):
        return json_value(value)
    return value


def _xlsx(rows, out: BinaryIO) -> int:
    from openpyxl import Workbook  # only XLSX needs it, and it is slow to import

    workbook = Workbook(write_only=True)  # rows go to a temporary file, not to memory
    sheet = workbook.create_sheet("Customers")
    sheet.append([field.name for field in FIELDS])
    kinds = [field.kind for field in FIELDS]
    count = 0
    for count, row in enumerate(rows, start=1):  # noqa: B007 (the count is the result)
        sheet.append([_xlsx_value(value, kind) for value, kind in zip(row, kinds, strict=True)])
    workbook.save(out)
    return count
