"""From a file's columns and cells to the customer's fields and values.

Column names: every spelling of contract section 8 (camelCase, snake_case, the human labels such
as `Billing Address Zipcode`) comes down to one key once case, spaces and underscores are dropped,
so the index below is derived from the field table and its input aliases.

Cells: JSON is typed, so its values go to the API's checks as they are. CSV cells are text, and
XLSX cells mostly so; `text_cell` defines how text becomes a boolean (true/false/yes/no/1/0), a
number (a decimal string) or a branch id (digits), before the same checks run. The API itself is
not loosened: `"true"` in a JSON body is still refused.

Formula neutralisation: the export prefixes `'` to a text cell that a spreadsheet would run as a
formula, one starting with = + - @, and to one that already starts with apostrophes followed by
such a character (so that `'=x` as data survives too). `unneutralise` removes exactly that one
apostrophe, for CSV and XLSX only: the pair is a bijection, so a round trip returns every value.
"""

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal, DecimalException

from common.values import InvalidValue

from ..fields import FIELDS, INPUT_SPELLINGS, Access, CustomerField, Kind
from ..validation import check as field_check

ERRORS_COLUMN = "Import Errors"  # added by --errors; ignored when that file is imported again

_NEEDS_QUOTE = re.compile(r"'*[=+\-@]")
_QUOTED = re.compile(r"'+[=+\-@]")
TEXT_KINDS = frozenset(
    {Kind.TEXT, Kind.NAME, Kind.EMAIL, Kind.NOTE, Kind.CODE, Kind.CUSTOMER_TYPE, Kind.CURRENCY}
)
_REQUIRED_KINDS = frozenset({Kind.NAME, Kind.CUSTOMER_TYPE, Kind.CURRENCY})
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})


def neutralise(value: str) -> str:
    return "'" + value if _NEEDS_QUOTE.match(value) else value


def unneutralise(value: str) -> str:
    return value[1:] if _QUOTED.match(value) else value


def header_key(name: str) -> str:
    return re.sub(r"[\s_]+", "", name).lower()


COLUMNS = {header_key(key): field for key, (field, _) in INPUT_SPELLINGS.items()}
"""The API's input spellings (customers/fields.py) with case, spaces and underscores dropped, so
that `Billing Address 1`, `billing_address_1` and `billingAddress1` name one field."""


def text_reader(field: CustomerField) -> Callable:
    """A text cell's reader: the cell as the JSON value it stands for, then the field's check.

    Built once per column, so the per-cell work is only what that column's kind needs.
    """
    kind, check = field.kind, field_check(field)
    if kind in TEXT_KINDS and kind not in _REQUIRED_KINDS:

        def text(raw: str):
            return check(unneutralise(raw) if raw[:1] == "'" else raw)

        return text
    if kind in TEXT_KINDS:
        lower = kind is Kind.CUSTOMER_TYPE

        def required(raw: str):
            if raw[:1] == "'":
                raw = unneutralise(raw)
            elif not raw.strip():
                raise _required()
            return check(raw.strip().lower() if lower else raw)

        return required

    def other(raw: str):
        raw = raw.strip()
        if not raw:
            return None  # null date or branch; for a boolean or a number, "not given"
        if kind is Kind.BOOLEAN:
            lowered = raw.lower()
            return check(True if lowered in _TRUE else False if lowered in _FALSE else raw)
        if kind is Kind.AMOUNT or kind is Kind.RATE:
            try:
                return check(Decimal(raw))
            except DecimalException:
                return check(raw)
        if kind is Kind.BRANCH and raw.isdigit():
            return check(int(raw))
        return check(raw)

    return other


def json_cell(field: CustomerField, value):
    """A JSON value as the API would see it; a missing key counts as null."""
    if value is None:
        if field.kind in _REQUIRED_KINDS:
            raise _required()
        return None
    if field.kind is Kind.CUSTOMER_TYPE and isinstance(value, str):
        return value.strip().lower()
    return value


def _required() -> InvalidValue:
    return InvalidValue("This field is required.", "required")


def cell_reader(field: CustomerField, typed: bool) -> Callable:
    """One column's reader: a raw cell in, a clean value out, or InvalidValue.

    None out means null for a date or a branch, and "not given" for a boolean or a number: the
    model's default on create, the stored value on update.
    """
    if not typed:
        return text_reader(field)
    check = field_check(field)

    def read(raw):
        value = json_cell(field, raw)
        return None if value is None else check(value)

    return read


# Bigcapital's date formats for a mapped date column (its ImportDateFormats), as strptime's.
DATE_FORMATS = {
    "yyyy-MM-dd": "%Y-%m-%d",
    "dd.MM.yy": "%d.%m.%y",
    "MM/dd/yy": "%m/%d/%y",
    "dd/MMM/yyyy": "%d/%b/%Y",
}


def dated_reader(read: Callable, date_format: str) -> Callable:
    """`read` for a date column written in one of DATE_FORMATS: the cell becomes an ISO date
    first. An empty cell stays empty; one in another form is refused, naming the form."""
    pattern = DATE_FORMATS[date_format]

    def dated(raw):
        text = raw.strip() if isinstance(raw, str) else raw
        if isinstance(text, str) and text:
            try:
                raw = dt.datetime.strptime(text, pattern).date().isoformat()
            except ValueError:
                raise InvalidValue(f"Not a date written {date_format}.", "invalid") from None
        return read(raw)

    return dated


def mapped_header(header: list[str], mapping: dict[str, str]) -> list[str]:
    """The header as a mapping renames it: each mapped column takes its field's name, and an
    unmapped one none at all (so it is skipped)."""
    return [mapping.get(column_name(name), "") for name in header]


def column_name(name) -> str:
    """A header cell as text (an XLSX header may hold numbers, or nothing)."""
    return name if isinstance(name, str) else str(name or "")


def required_fields(mode: str, match: str) -> list[CustomerField]:
    access = "on_update" if mode == "update" else "on_create"
    required = [field for field in FIELDS if getattr(field, access) is Access.REQUIRED]
    if mode != "create":
        required.append(next(field for field in FIELDS if field.name == match))
    return required


class ColumnError(ValueError):
    pass


def resolve_columns(
    header: list[str], *, mode: str, match: str, ignore_unknown: bool
) -> list[CustomerField | None]:
    """Each column's field, or None for one to skip; refuses a header that cannot be imported."""
    writable = "on_update" if mode == "update" else "on_create"
    fields, unknown, seen = [], [], {}
    for name in header:
        name = column_name(name)
        field = COLUMNS.get(header_key(name))
        if field is None and name != ERRORS_COLUMN:
            unknown.append(name)
        if field is not None and field.name in seen:
            raise ColumnError(
                f"Columns {seen[field.name]!r} and {name!r} both name the field {field.name}."
            )
        if field is not None:
            seen[field.name] = name
        # Read-only fields (id, balance, ...) are skipped, as the API ignores them in a body.
        usable = field is not None and getattr(field, writable) is not Access.READ_ONLY
        fields.append(field if usable else None)
    missing = [field.name for field in required_fields(mode, match) if field.name not in seen]
    if missing:
        raise ColumnError(f"Missing required column: {', '.join(missing)}.")
    if unknown and not ignore_unknown:
        raise ColumnError(
            f"Unknown column: {', '.join(map(repr, unknown))}. "
            "Rename it, or pass --ignore-unknown-columns to skip it."
        )
    return fields
