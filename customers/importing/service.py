"""The customer import: a file in, customers created or updated, all in one transaction.

    customer_import(organization=..., stream=..., fmt="csv", actor=...) -> ImportResult

1. The header is resolved against the field table; a missing required column or an unknown one
   refuses the file before any row is read.
2. Each row runs the same checks as the API (customers/validation.py) and the same cross-field
   rule as customers/services.py; valid rows stream into a staging table, invalid ones are
   reported (and written to the errors file, if one is asked for).
3. The checks that need the database run set-wise on the staging table: duplicate keys within
   the file, codes taken, matches missing or ambiguous, branches of another organization.
4. Unless something failed (and --skip-invalid was not given) or this is a dry run, the staged
   rows are applied; otherwise the transaction rolls back and nothing at all is written.
"""

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import call, itemgetter
from typing import BinaryIO, TextIO

from django.db import IntegrityError, connection, transaction

from common.actors import Actor
from common.errors import ApplicationError
from common.values import InvalidValue
from organizations.models import Organization

from ..services import check_opening_balance
from .apply import create_new, update_matched
from .cells import ERRORS_COLUMN, ColumnError, cell_reader, resolve_columns
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
    dry_run: bool = False
    applied: bool = False  # the valid rows were applied: committed, or rolled back as a dry run

    @property
    def written(self) -> bool:
        return self.applied and not self.dry_run


def customer_import(
    *,
    organization: Organization,
    stream: BinaryIO,
    fmt: str,
    actor: Actor,
    mode: str = "create",
    match: str = "code",
    skip_invalid: bool = False,
    dry_run: bool = False,
    ignore_unknown_columns: bool = False,
    errors_to: TextIO | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    match = "code" if mode == "create" else match
    try:
        source = open_source(stream, fmt)
        columns = resolve_columns(
            source.header, mode=mode, match=match, ignore_unknown=ignore_unknown_columns
        )
    except (FileRefused, ColumnError) as error:
        raise ImportRefused(str(error)) from None
    positions = [index for index, spec in enumerate(columns) if spec is not None]
    fields = [columns[index] for index in positions]
    staging = Staging(fields=fields, organization_id=organization.pk, match=match)
    result = ImportResult(dry_run=dry_run)
    errors_file = _ErrorsFile(errors_to, source.header, columns)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            staging.create(cursor)
            with staging.loader(cursor) as add:
                _read_rows(source, staging, positions, result, errors_file, add, progress)
            staging.find_matches(cursor)
            failed = {}
            for row_number, name, message in staging.checks(cursor, mode):
                failed.setdefault(row_number, []).append((name, message))
            _record_failures(result, failed, errors_file, staging, cursor)
            if result.failed and not skip_invalid:
                transaction.set_rollback(True)
                return result
            staging.discard(cursor, sorted(failed))
            _apply(cursor, staging, mode, actor, result)
            staging.drop(cursor)
            result.applied = True
            if dry_run:
                transaction.set_rollback(True)
    except FileRefused as error:
        raise ImportRefused(str(error)) from None
    except IntegrityError:
        # The checks ran on what the database held then; another writer got in since.
        raise ImportRefused(
            "Another change to this organization's customers conflicted with the file "
            "(a code taken meanwhile). Nothing was written: import it again."
        ) from None
    return result


def _read_rows(source, staging, positions, result, errors_file, add, progress) -> None:
    columns = [
        (position, spec, cell_reader(spec, source.typed))
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


def _apply(cursor, staging, mode, actor, result) -> None:
    cursor.execute(f"SELECT COUNT(customer_id) FROM {TABLE}")
    (matched,) = cursor.fetchone()
    if mode != "update":
        result.created = create_new(cursor, staging, actor)
    if mode != "create":
        result.updated = update_matched(cursor, staging, actor)
        result.unchanged = matched - result.updated


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
