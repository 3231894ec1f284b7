"""manage.py import_customers PATH --organization ID: customers from a CSV, JSON or XLSX file."""

import sys
import time
from contextlib import ExitStack

from django.core.management.base import BaseCommand, CommandError

from common.actors import Actor, Door
from customers.importing.readers import FORMATS, FileRefused, format_for
from customers.importing.service import MATCHES, MODES, ON_DUPLICATE, ImportRefused
from customers.services import customer_import
from organizations.models import Organization

PLAIN_EVERY = 100_000  # rows between progress lines when the output is not a terminal
SHOWN_DUPLICATES = 50


class Command(BaseCommand):
    help = "Import customers from a file into one organization: all rows or none, by default."

    def add_arguments(self, parser):
        parser.add_argument("path", help="The file to read, or - for standard input.")
        parser.add_argument("--organization", type=int, required=True, help="Organization id.")
        parser.add_argument("--format", choices=FORMATS, help="Default: from the extension.")
        parser.add_argument("--mode", choices=MODES, default="create")
        parser.add_argument("--match", choices=MATCHES, default="code")
        parser.add_argument("--skip-invalid", action="store_true", help="Write the valid rows.")
        parser.add_argument("--errors", metavar="PATH", help="Write failed rows here, as CSV.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check everything; write nothing."
        )
        parser.add_argument("--ignore-unknown-columns", action="store_true")
        parser.add_argument(
            "--on-duplicate",
            choices=ON_DUPLICATE,
            default="allow",
            help="A new customer strongly like an existing one or an earlier row: create it and "
            "report it (allow, the default), leave the row out (skip), or import nothing "
            "(reject). A dry run reports them whatever this says.",
        )

    def handle(self, *args, path, organization, **options):
        target = Organization.objects.filter(pk=organization).first()
        if target is None:
            raise CommandError(f"No organization with id {organization}.")
        try:
            fmt = format_for(path, options["format"])
        except FileRefused as error:
            raise CommandError(str(error)) from None
        started = time.monotonic()
        with ExitStack() as files:
            stream = sys.stdin.buffer if path == "-" else files.enter_context(_open(path))
            errors_to = (
                files.enter_context(open(options["errors"], "w", newline="", encoding="utf-8"))
                if options["errors"]
                else None
            )
            progress = files.enter_context(_Progress(self.stderr, started))
            try:
                result = customer_import(
                    organization=target,
                    stream=stream,
                    fmt=fmt,
                    actor=Actor(door=Door.IMPORT),
                    mode=options["mode"],
                    match=options["match"],
                    skip_invalid=options["skip_invalid"],
                    dry_run=options["dry_run"],
                    ignore_unknown_columns=options["ignore_unknown_columns"],
                    errors_to=errors_to,
                    progress=progress.update,
                    on_duplicate=options["on_duplicate"],
                )
            except ImportRefused as error:
                raise CommandError(f"Nothing was imported: {error}") from None
        self._summary(result, time.monotonic() - started)
        if result.failed and not (options["skip_invalid"] and result.applied):
            raise CommandError(
                f"Nothing was imported: {result.failed} row(s) failed. "
                "Fix them, or pass --skip-invalid to import the valid rows."
            )

    def _summary(self, result, seconds: float) -> None:
        for error in result.errors:
            field = f", {error.field}" if error.field else ""
            self.stderr.write(f"Row {error.row}{field}: {error.message}")
        if result.failed > len(result.errors):
            self.stderr.write(f"... and more: {result.failed} row(s) failed in all.")
        for duplicate in result.duplicates[:SHOWN_DUPLICATES]:
            self.stdout.write(f"Possible duplicate: {duplicate.message}")
        if len(result.duplicates) > SHOWN_DUPLICATES:
            self.stdout.write(f"... {len(result.duplicates)} possible duplicates in all.")
        if result.skipped_duplicates:
            self.stdout.write(f"Skipped {result.skipped_duplicates} possible duplicate(s).")
        rate = result.rows / seconds if seconds else 0
        self.stdout.write(
            f"{result.rows} rows in {seconds:.1f} s ({rate:,.0f} rows/s): "
            f"created {result.created}, updated {result.updated}, "
            f"unchanged {result.unchanged}, failed {result.failed}."
        )
        if result.dry_run and result.applied:
            self.stdout.write("Dry run: nothing was written.")
        elif result.written and not (result.created or result.updated):
            self.stdout.write("Nothing changed: the customers already match the file.")


def _open(path: str):
    try:
        return open(path, "rb")
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error.strerror}.") from None


class _Progress:
    """tqdm's bar with rows per second on a terminal; a plain line now and then otherwise."""

    def __init__(self, stream, started: float):
        self.stream, self.started, self.bar, self.shown = stream, started, None, 0

    def __enter__(self):
        if self.stream.isatty():
            from tqdm import tqdm  # only a terminal needs it

            self.bar = tqdm(unit=" rows", unit_scale=True, file=sys.stderr, leave=False)
        return self

    def update(self, rows: int) -> None:
        if self.bar is not None:
            self.bar.update(rows - self.bar.n)
        elif rows - self.shown >= PLAIN_EVERY:
            self.shown = rows
            rate = rows / max(time.monotonic() - self.started, 1e-9)
            self.stream.write(f"Read {rows} rows ({rate:,.0f} rows/s)")

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()
