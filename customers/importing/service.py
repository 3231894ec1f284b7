"""The customer import's machinery: a file read, checked and staged for
customers.services.customer_import, which writes it in one transaction.

1. The header is resolved against the field table; a missing required column or an unknown one
   refuses the file before any row is read.
2. Each row runs the same checks as the API (customers/validation.py) and the same cross-field
   rule as customers/services.py; valid rows stream into a staging table, invalid ones are
   reported (and written to the errors file, if one is asked for).
3. The checks that need the database run set-wise on the staging table: duplicate keys within
   the file, codes taken, matches missing or ambiguous, branches of another organization.
4. Unless something failed (and --skip-invalid was not given) or this is a dry run, the service
   writes the staged rows (customers/importing/apply.py holds its set-wise SQL); otherwise the
   transaction rolls back and nothing at all is written.
"""

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import call, itemgetter
from typing import BinaryIO, TextIO

from common.errors import ApplicationError
from common.values import InvalidValue
from organizations.models import Organization

from ..services import check_opening_balance
from .cells import (
    ERRORS_COLUMN,
    ColumnError,
    cell_reader,
    dated_reader,
    mapped_header,
    resolve_columns,
)
from .export import file_value
from .readers import FileRefused, open_source
from .staging import TABLE, Staging

MODES = ("create", "upsert", "update")
MATCHES = ("code", "email")
ERRORS_KEPT = 1000  # errors kept for the summary; the errors file gets every one
PROGRESS_EVERY = 10_000


class ImportRefused(ValueError):
    """The file cannot be imported at all: nothing was read into the database."""


@dataclass(frozen=True)
class RowDuplicate:
    """A row that would create a customer strongly like another (customers/matching.py): an
    earlier row of the file (`other_row`), or a customer of the book (`other_id`)."""

    row: int
    other_id: int | None
    other_row: int | None
    score: float

    @property
    def message(self) -> str:
        other = (
            f"row {self.other_row} of the file"
            if self.other_row is not None
            else f"customer {self.other_id}"
        )
        return f"Row {self.row} looks like {other} (score {self.score})."


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    message: str


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    errors: list[RowError] = field(default_factory=list)
    # New customers strongly like another (within the file or the book), and how many of them
    # --on-duplicate skip left out.
    duplicates: list[RowDuplicate] = field(default_factory=list)
    skipped_duplicates: int = 0
    dry_run: bool = False
    applied: bool = False  # the valid rows were applied: committed, or rolled back as a dry run

    @property
    def written(self) -> bool:
        return self.applied and not self.dry_run


ON_DUPLICATE = ("allow", "skip", "reject")


class ImportRun:
    """One file's import, stage by stage; customers.services.customer_import drives it, inside its
    one transaction, and decides what is written."""

    def __init__(
        self,
        *,
        organization: Organization,
        stream: BinaryIO,
        fmt: str,
        mode: str,
        match: str,
        ignore_unknown_columns: bool,
        dry_run: bool,
        errors_to: TextIO | None,
        progress: Callable[[int], None] | None,
        mapping: dict[str, str] | None = None,
        date_formats: dict[str, str] | None = None,
    ) -> None:
        if mode not in MODES or match not in MATCHES:
            raise ValueError(f"mode {mode!r}, match {match!r}")
        self.mode = mode
        match = "code" if mode == "create" else match
        try:
            self.source = open_source(stream, fmt)
            header = self.source.header
            if mapping is not None:  # the columns left out of a mapping are skipped
                header, ignore_unknown_columns = mapped_header(header, mapping), True
            columns = resolve_columns(
                header, mode=mode, match=match, ignore_unknown=ignore_unknown_columns
            )
        except (FileRefused, ColumnError) as error:
            raise ImportRefused(str(error)) from None
        self.positions = [index for index, spec in enumerate(columns) if spec is not None]
        fields = [columns[index] for index in self.positions]
        self.staging = Staging(fields=fields, organization_id=organization.pk, match=match)
        self.result = ImportResult(dry_run=dry_run)
        self.errors_file = _ErrorsFile(errors_to, self.source.header, columns)
        self.progress = progress
        self.date_formats = date_formats or {}

    def stage(self, cursor) -> dict[int, list]:
        """Read every row into the staging table and run the checks that need the database.
        Every failed row is counted in the result; returns the staged ones that failed, by row
        number (the others never reached the table)."""
        staging = self.staging
        try:
            staging.create(cursor)
            with staging.loader(cursor) as add:
                _read_rows(
                    self.source,
                    staging,
                    self.positions,
                    self.result,
                    self.errors_file,
                    add,
                    self.progress,
                    self.date_formats,
                )
        except FileRefused as error:
            raise ImportRefused(str(error)) from None
        staging.find_matches(cursor)
        failed = {}
        for row_number, name, message in staging.checks(cursor, self.mode):
            failed.setdefault(row_number, []).append((name, message))
        _record_failures(self.result, failed, self.errors_file, staging, cursor)
        return failed

    def matched(self, cursor) -> int:
        """How many staged rows match a customer of the organization."""
        cursor.execute(f"SELECT COUNT(customer_id) FROM {TABLE}")
        return cursor.fetchone()[0]


CONFLICT = (
    "Another change to this organization's customers conflicted with the file "
    "(a code taken meanwhile). Nothing was written: import it again."
)


def _read_rows(source, staging, positions, result, errors_file, add, progress, date_formats):
    columns = [
        (position, spec, _reader(spec, source.typed, date_formats.get(spec.name)))
        for position, spec in zip(positions, staging.fields, strict=True)
    ]
    reads = [read for _, _, read in columns]
    # The row's used cells, picked in C: one call per row rather than an index per cell.
    pick = itemgetter(*positions) if len(positions) > 1 else lambda cells: (cells[positions[0]],)
    key_index = _index(staging, staging.match)
    email_key = staging.match == "email"
    balance = _index(staging, "openingBalance")
    balance_at = _index(staging, "openingBalanceAt")
    rows = 0
    for row_number, cells, problem in source.rows:
        rows += 1
        if progress and rows % PROGRESS_EVERY == 0:
            progress(rows)
        try:
            values = list(map(call, reads, pick(cells)))
            problems = [("", problem)] if problem else ()
        except InvalidValue:
            values, problems = _every_problem(columns, cells, problem)
        if balance is not None and not problems:
            try:
                at = values[balance_at] if balance_at is not None else None
                check_opening_balance(values[balance] or 0, at)
            except ApplicationError as error:
                problems = [(error.field, error.message)]
        if problems:
            _fail(result, row_number, problems)
            errors_file.raw(cells, problems)
            continue
        key = values[key_index] if key_index is not None else None
        if key is not None and email_key:
            key = key.lower() or None
        add((row_number, key, *values))
    result.rows = rows
    if progress:
        progress(rows)
    if rows == 0:
        raise FileRefused("The file has a header but no customers.")


def _reader(spec, typed: bool, date_format: str | None) -> Callable:
    read = cell_reader(spec, typed)
    return read if date_format is None else dated_reader(read, date_format)


def _every_problem(columns, cells, problem) -> tuple[list, list]:
    """The slow path, for a row with an invalid cell: every cell's problem, not only the first."""
    values, problems = [], [("", problem)] if problem else []
    for position, spec, read in columns:
        try:
            values.append(read(cells[position]))
        except InvalidValue as error:
            problems.append((spec.name, error.message))
            values.append(None)
    return values, problems


def _index(staging: Staging, name: str) -> int | None:
    return next((i for i, spec in enumerate(staging.fields) if spec.name == name), None)


def _fail(result: ImportResult, row_number: int, problems) -> None:
    result.failed += 1
    for name, message in problems:
        if len(result.errors) < ERRORS_KEPT:
            result.errors.append(RowError(row_number, name, message))


def _record_failures(result, failed, errors_file, staging, cursor) -> None:
    for row_number, problems in sorted(failed.items()):
        _fail(result, row_number, problems)
    if errors_file.writer and failed:
        for row_number, *values in staging.staged(cursor, sorted(failed)):
            errors_file.staged(staging.fields, values, failed[row_number])


class _ErrorsFile:
    """The failed rows as CSV, with their messages in a last column; fix it and import it again."""

    def __init__(self, stream: TextIO | None, header: list[str], columns) -> None:
        self.writer = csv.writer(stream) if stream is not None else None
        self.columns = columns
        # A file of errors imported again brings its old messages along: they are replaced.
        self.width = len(header) - 1 if header and header[-1] == ERRORS_COLUMN else len(header)
        if self.writer:
            self.writer.writerow([*header[: self.width], ERRORS_COLUMN])

    def raw(self, cells, problems) -> None:
        if self.writer:
            cells = [file_value(cell) for cell in cells[: self.width]]
            self.writer.writerow([*cells, _messages(problems)])

    def staged(self, fields, values, problems) -> None:
        cells = [""] * self.width
        by_name = dict(zip((spec.name for spec in fields), values, strict=True))
        for position, spec in enumerate(self.columns[: self.width]):
            if spec is not None and spec.name in by_name:
                cells[position] = file_value(by_name[spec.name], spec.kind)
        self.writer.writerow([*cells, _messages(problems)])


def _messages(problems) -> str:
    return "; ".join(f"{name}: {message}" if name else message for name, message in problems)
