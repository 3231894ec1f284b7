"""Streaming readers: a header, then one row at a time, never the whole file in memory.

Row numbers are what a person finds in the file: in CSV and XLSX the header is row 1 and the
first customer row 2; in JSON the first object (or line) is row 1. Each row comes as
`(number, cells aligned with the header, problem or None)`.
"""

import codecs
import csv
import datetime as dt
import io
import itertools
import json
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import BinaryIO

import ijson

FORMATS = ("csv", "json", "jsonl", "xlsx")
EXTENSIONS = {
    ".csv": "csv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".xlsx": "xlsx",
}


class FileRefused(ValueError):
    """The file as a whole cannot be imported; the message says why, for a person."""


@dataclass
class Source:
    header: list[str]
    rows: Iterator[tuple[int, list, str | None]]
    typed: bool  # JSON values keep their JSON types; CSV and XLSX cells are text


def format_for(path: str, given: str | None) -> str:
    if given:
        return given
    for extension, name in EXTENSIONS.items():
        if path.lower().endswith(extension):
            return name
    raise FileRefused("Cannot tell the format from the file name: pass --format.")


def open_source(stream: BinaryIO, fmt: str) -> Source:
    readers = {"csv": _csv, "json": _json, "jsonl": _json_lines, "xlsx": _xlsx}
    if fmt in ("json", "jsonl"):
        stream = io.BufferedReader(_TextBytes(stream))
    return readers[fmt](stream)


def _decoding_errors(rows: Iterator, last_row: list) -> Iterator:
    try:
        yield from rows
    except UnicodeDecodeError as error:
        raise _not_utf8(error, f" near row {last_row[0] + 1}") from None


def _not_utf8(error: UnicodeDecodeError, where: str = "") -> FileRefused:
    return FileRefused(
        f"The file is not UTF-8 text (byte 0x{error.object[error.start]:02x}{where}): "
        "save it as CSV UTF-8 and import it again."
    )


def _csv(stream: BinaryIO) -> Source:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    position = [1]
    reader = csv.reader(_lines(text, position))
    try:
        header = next(reader, None)
    except UnicodeDecodeError as error:
        raise _not_utf8(error) from None
    except csv.Error as error:
        raise FileRefused(f"The header is not valid CSV: {error}.") from None
    if not header or not any(cell.strip() for cell in header):
        raise FileRefused("The file is empty: it has no header row.")
    return Source(
        header, _decoding_errors(_csv_rows(reader, len(header), position), position), False
    )


def _lines(text: io.TextIOWrapper, position: list) -> Iterator[str]:
    for line in text:
        if "\x00" in line:
            raise FileRefused(f"The file contains NUL bytes (row {position[0] + 1}): is it binary?")
        yield line


def _csv_rows(reader, width: int, position: list) -> Iterator[tuple[int, list, str | None]]:
    number = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise FileRefused(f"Row {number + 1} is not valid CSV: {error}.") from None
        number += 1
        position[0] = number
        if not cells or (len(cells) == 1 and not cells[0]):
            continue
        problem = None
        if len(cells) > width:
            problem = f"Has {len(cells)} cells; the header has {width}."
        elif len(cells) < width:
            cells.extend([""] * (width - len(cells)))
        yield number, cells, problem


class _TextBytes(io.RawIOBase):
    """A JSON file's bytes, refused with a clear message at the first NUL or non-UTF-8 byte.

    JSON parsers would otherwise report these as a lexical error at an offset.
    """

    def __init__(self, stream: BinaryIO):
        self.stream, self.offset = stream, 0
        self.decoder = codecs.getincrementaldecoder("utf-8")()

    def readable(self):
        return True

    def readinto(self, buffer):
        chunk = self.stream.read(len(buffer))
        if b"\x00" in chunk:
            at = self.offset + chunk.index(b"\x00")
            raise FileRefused(f"The file contains NUL bytes (byte {at}): is it binary?")
        try:
            self.decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as error:
            raise FileRefused(
                f"The file is not UTF-8 text (byte 0x{error.object[error.start]:02x} at "
                f"{self.offset + error.start}): save it as UTF-8 and import it again."
            ) from None
        buffer[: len(chunk)] = chunk
        self.offset += len(chunk)
        return len(chunk)


def _json(stream: BinaryIO) -> Source:
    buffered = io.BufferedReader(stream) if not hasattr(stream, "peek") else stream
    start = buffered.peek(64)[:64].lstrip(codecs.BOM_UTF8).lstrip()
    if not start:
        raise FileRefused("The file is empty.")
    if not start.startswith(b"["):
        return _json_lines(buffered)
    objects = ijson.items(buffered, "item", use_float=False)
    return _objects(_guard_json(objects))


def _guard_json(objects: Iterator) -> Iterator:
    count = 0
    try:
        for item in objects:
            count += 1
            yield count, item
    except (ijson.JSONError, UnicodeDecodeError) as error:
        raise FileRefused(f"Not valid JSON after object {count}: {error}.") from None


def _json_lines(stream: BinaryIO) -> Source:
    def objects():
        for number, line in enumerate(stream, start=1):
            line = line.lstrip(codecs.BOM_UTF8) if number == 1 else line
            if not line.strip():
                continue
            try:
                yield number, json.loads(line, parse_float=Decimal)
            except (ValueError, UnicodeDecodeError) as error:
                raise FileRefused(f"Line {number} is not valid JSON: {error}.") from None

    return _objects(objects())


def _objects(numbered: Iterator[tuple[int, object]]) -> Source:
    first = next(numbered, None)
    if first is None:
        raise FileRefused("The file has no customers.")
    if not isinstance(first[1], dict):
        raise FileRefused("Each customer must be a JSON object.")
    header = list(first[1])
    known = set(header)

    def rows():
        for number, item in itertools.chain([first], numbered):
            if not isinstance(item, dict):
                yield number, [None] * len(header), "Must be a JSON object."
                continue
            extra = [key for key in item if key not in known]
            problem = f"Unknown field: {', '.join(extra)}." if extra else None
            yield number, [item.get(key) for key in header], problem

    return Source(header, rows(), True)


def _xlsx(stream: BinaryIO) -> Source:
    from openpyxl import load_workbook  # only XLSX needs it, and it is slow to import

    seekable = stream if stream.seekable() else _spooled(stream)
    try:
        workbook = load_workbook(seekable, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise FileRefused("Not a valid XLSX workbook.") from None
    rows = workbook.worksheets[0].iter_rows(values_only=True)
    header = next(rows, None)
    if not header or all(cell is None for cell in header):
        raise FileRefused("The file is empty: it has no header row.")
    while header and header[-1] is None:
        header = header[:-1]
    width = len(header)

    def numbered():
        for number, row in enumerate(rows, start=2):
            if row is None or all(cell is None for cell in row):
                continue
            cells = [_xlsx_text(cell) for cell in row[:width]]
            cells.extend([""] * (width - len(cells)))
            extra = any(cell is not None for cell in row[width:])
            yield number, cells, "Has cells beyond the header's columns." if extra else None
        workbook.close()

    return Source([_xlsx_text(cell) for cell in header], numbered(), False)


def _spooled(stream: BinaryIO) -> BinaryIO:
    # A workbook is a zip archive, read from its end: standard input goes to disk first.
    spool = tempfile.TemporaryFile()  # noqa: SIM115 (closed with the import)
    shutil.copyfileobj(stream, spool)
    spool.seek(0)
    return spool


def _xlsx_text(cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, dt.datetime):
        return cell.isoformat()
    if isinstance(cell, dt.date):
        return cell.isoformat()
    return str(cell)
