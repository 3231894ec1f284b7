"""Bigcapital's filter roles and views over the customer list: conditions in, a Q out.

A role is `{fieldKey, comparator, value, condition, index}`. Bigcapital combines roles the way its
logic-expression parser does: in order, left to right, AND and OR with the same precedence, so
`a AND b OR c AND d` is `((a AND b) OR c) AND d`; the first role's `condition` is not used. Roles
are taken in the order of their `index` (array order where absent: Bigcapital numbers roles by
their array position, which is the same thing for its clients).

Where Counterpart is stricter than Bigcapital, it says so rather than guess: an unknown field or
comparator, or a value of the wrong type, is refused by name (Bigcapital falls back to `equals`
and compares whatever it got). Text comparisons ignore case, as Bigcapital's do on MySQL's default
collation. Field keys are Bigcapital's (`display_name`, `created_at`, `status`, …) and the API's
names in either spelling (`displayName`).
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db.models import Q
from django.utils.dateparse import parse_date, parse_datetime

from common.naming import to_snake

from .fields import FIELDS, Kind
from .models import Customer

MAX_ROLES = 50

TEXT, NUMBER, BOOLEAN, DATE, ENUMERATION = "text", "number", "boolean", "date", "enumeration"

EQUALS = frozenset({"equal", "equals", "is"})
NOT_EQUALS = frozenset({"not_equal", "not_equals", "is_not"})
COMPARATORS = {
    TEXT: EQUALS
    | NOT_EQUALS
    | {"contain", "contains", "not_contain", "not_contains"}
    | {"starts_with", "start_with", "ends_with", "end_with"},
    NUMBER: EQUALS
    | NOT_EQUALS
    | {"bigger_than", "bigger", "bigger_or_equals", "smaller_than", "smaller", "smaller_or_equals"},
    BOOLEAN: EQUALS | NOT_EQUALS,
    ENUMERATION: EQUALS | NOT_EQUALS,
    DATE: frozenset({"after", "before", "in"}),
}
_NUMBER_LOOKUPS = {
    "bigger_than": "gt",
    "bigger": "gt",
    "bigger_or_equals": "gte",
    "smaller_than": "lt",
    "smaller": "lt",
    "smaller_or_equals": "lte",
}
_TEXT_LOOKUPS = {
    "contain": "icontains",
    "contains": "icontains",
    "starts_with": "istartswith",
    "start_with": "istartswith",
    "ends_with": "iendswith",
    "end_with": "iendswith",
}
_TYPE_OF_KIND = {
    Kind.NAME: TEXT,
    Kind.TEXT: TEXT,
    Kind.EMAIL: TEXT,
    Kind.NOTE: TEXT,
    Kind.CODE: TEXT,
    Kind.CURRENCY: TEXT,
    Kind.AMOUNT: NUMBER,
    Kind.RATE: NUMBER,
    Kind.ID: NUMBER,
    Kind.BRANCH: NUMBER,
    Kind.BOOLEAN: BOOLEAN,
    Kind.DATETIME: DATE,
    Kind.CUSTOMER_TYPE: ENUMERATION,
}
CUSTOMER_TYPES = tuple(Customer.CustomerType.values)
# Bigcapital's customer `status`: overdue and unpaid. Counterpart keeps no invoices, so it cannot
# tell an overdue customer; unpaid is a receivable balance above zero, active and inactive are
# the customer's own flag.
STATUSES = {
    "unpaid": Q(balance__gt=0),
    "active": Q(active=True),
    "inactive": Q(active=False),
}
NO_OVERDUE = (
    "Counterpart keeps no invoices, so it cannot tell overdue customers; "
    f"use one of: {', '.join(STATUSES)}."
)


@dataclass(frozen=True)
class Filterable:
    attribute: str  # a Customer attribute, or "status"
    type: str
    choices: tuple[str, ...] = ()


def _filterable() -> dict[str, Filterable]:
    fields = {}
    for field in FIELDS:
        # closingBalance is the balance, and localOpeningBalance is computed, not stored.
        if field.kind not in _TYPE_OF_KIND or field.name in (
            "closingBalance",
            "localOpeningBalance",
        ):
            continue
        choices = CUSTOMER_TYPES if field.kind is Kind.CUSTOMER_TYPE else ()
        filterable = Filterable(field.attribute, _TYPE_OF_KIND[field.kind], choices)
        fields[field.name] = fields[to_snake(field.name)] = filterable
    fields["status"] = Filterable("status", ENUMERATION, (*STATUSES, "overdue"))
    return fields


FILTERABLE = _filterable()


class FilterRolesError(ValueError):
    """A role that cannot be applied; the message says which and why."""


@dataclass(frozen=True)
class FilterRole:
    field: Filterable
    comparator: str
    value: object
    condition: str  # "and" or "or": how this role joins the ones before it


def parse_roles(raw) -> list[FilterRole]:
    """Bigcapital's roles (a list of objects, as decoded from JSON or the query string) checked
    one by one and put in index order; FilterRolesError names the first thing wrong."""
    if not isinstance(raw, list):
        raise FilterRolesError("Filter roles must be a list of conditions.")
    if len(raw) > MAX_ROLES:
        raise FilterRolesError(f"At most {MAX_ROLES} filter roles, not {len(raw)}.")
    indexed = []
    for position, role in enumerate(raw, start=1):
        parsed, index = _parse_role(position, role)
        indexed.append((index if index is not None else position, position, parsed))
    return [role for _, _, role in sorted(indexed, key=lambda item: (item[0], item[1]))]


def _parse_role(position: int, role) -> tuple[FilterRole, int | None]:
    where = f"Filter role {position}"
    if not isinstance(role, dict):
        raise FilterRolesError(f"{where}: must be an object with fieldKey, comparator and value.")
    unknown = set(role) - {"fieldKey", "comparator", "value", "condition", "index"}
    if unknown:
        raise FilterRolesError(f"{where}: unknown key {sorted(unknown)[0]!r}.")
    key = role.get("fieldKey")
    if not isinstance(key, str) or key not in FILTERABLE:
        known = ", ".join(sorted(k for k in FILTERABLE if "_" in k or k.islower()))
        raise FilterRolesError(f"{where}: unknown field {key!r}. Fields: {known}.")
    field = FILTERABLE[key]
    comparator = role.get("comparator", "equals")
    if not isinstance(comparator, str) or comparator not in COMPARATORS[field.type]:
        known = ", ".join(sorted(COMPARATORS[field.type]))
        raise FilterRolesError(
            f"{where}: {key} cannot be compared with {comparator!r}. Comparators: {known}."
        )
    condition = role.get("condition", "and")
    if not isinstance(condition, str) or condition.lower() not in ("and", "or", "&&", "||"):
        raise FilterRolesError(f"{where}: condition must be AND or OR, not {condition!r}.")
    index = role.get("index")
    if index is not None and (isinstance(index, bool) or not isinstance(index, int | str)):
        raise FilterRolesError(f"{where}: index must be a whole number.")
    if isinstance(index, str):
        if not index.isascii() or not index.isdigit() or len(index) > 9:
            raise FilterRolesError(f"{where}: index must be a whole number.")
        index = int(index)
    if "value" not in role:
        raise FilterRolesError(f"{where}: a value is required.")
    value = _value(where, key, field, comparator, role["value"])
    joined = "or" if condition.lower() in ("or", "||") else "and"
    return FilterRole(field, comparator, value, joined), index


def _value(where: str, key: str, field: Filterable, comparator: str, value):
    if field.type == TEXT:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise FilterRolesError(f"{where}: {key} takes text.")
        value = str(value)
        if len(value) > 255 or "\x00" in value:
            raise FilterRolesError(f"{where}: at most 255 characters, no NUL, for {key}.")
        return value
    if field.type == NUMBER:
        return _number(where, key, value)
    if field.type == BOOLEAN:
        if value in (True, "true", "1", 1):
            return True
        if value in (False, "false", "0", 0):
            return False
        raise FilterRolesError(f"{where}: {key} takes true or false.")
    if field.type == ENUMERATION:
        if value == "overdue":
            raise FilterRolesError(f"{where}: {NO_OVERDUE}")
        if not isinstance(value, str) or value not in field.choices:
            raise FilterRolesError(f"{where}: {key} takes one of: {', '.join(field.choices)}.")
        return value
    return _date(where, key, comparator, value)


def _number(where: str, key: str, value) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise FilterRolesError(f"{where}: {key} takes a number.")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise FilterRolesError(f"{where}: {key} takes a number, not {value!r}.") from None
    if not number.is_finite() or abs(number) >= Decimal("1e15"):
        raise FilterRolesError(f"{where}: {key} takes a finite number below 10^15.")
    return number


def _date(where: str, key: str, comparator: str, value) -> tuple[dt.datetime, dt.datetime]:
    """The day, or the minute, the value names, as [start, end) in UTC."""
    text = value.strip() if isinstance(value, str) else None
    moment = day = None
    if text:
        try:
            moment = parse_datetime(text.replace(" ", "T", 1)) if len(text) > 10 else None
            day = parse_date(text) if len(text) == 10 else None
        except ValueError:
            moment = day = None
    if day is not None:
        start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
        return start, _end(start, dt.timedelta(days=1))
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    if moment is not None:
        try:
            moment = moment.astimezone(dt.UTC)
        except OverflowError:  # an offset that moves it before year 1 or past 9999
            moment = None
    if moment is not None:
        start = moment.replace(second=0, microsecond=0)
        return start, _end(start, dt.timedelta(minutes=1))
    raise FilterRolesError(
        f"{where}: {key} takes a date (2024-01-31) or a date and time (2024-01-31 14:30)."
    )


def _end(start: dt.datetime, length: dt.timedelta) -> dt.datetime:
    """The end of the day or minute that begins at `start`: the last moment there is, for the
    last day or minute of year 9999."""
    try:
        return start + length
    except OverflowError:
        return dt.datetime.max.replace(tzinfo=dt.UTC)


def roles_q(roles: list[FilterRole]) -> Q:
    """The roles joined left to right, AND and OR alike (Bigcapital's rule, module docstring)."""
    combined = None
    for role in roles:
        condition = _role_q(role)
        if combined is None:
            combined = condition
        elif role.condition == "or":
            combined = combined | condition
        else:
            combined = combined & condition
    return combined if combined is not None else Q()


def _role_q(role: FilterRole) -> Q:
    field, comparator, value = role.field, role.comparator, role.value
    if field.attribute == "status":
        q = STATUSES[value]
        return ~q if comparator in NOT_EQUALS else q
    attribute = field.attribute
    if field.type == DATE:
        start, end = value
        if comparator == "before":
            return Q(**{f"{attribute}__lt": start})
        if comparator == "after":
            return Q(**{f"{attribute}__gte": end})
        return Q(**{f"{attribute}__gte": start, f"{attribute}__lt": end})
    if comparator in _NUMBER_LOOKUPS:
        return Q(**{f"{attribute}__{_NUMBER_LOOKUPS[comparator]}": value})
    if comparator in _TEXT_LOOKUPS:
        return Q(**{f"{attribute}__{_TEXT_LOOKUPS[comparator]}": value})
    if comparator in ("not_contain", "not_contains"):
        return ~Q(**{f"{attribute}__icontains": value})
    lookup = "iexact" if field.type == TEXT else "exact"
    equal = Q(**{f"{attribute}__{lookup}": value})
    return ~equal if comparator in NOT_EQUALS else equal


VIEWS = {
    "active": [{"fieldKey": "status", "comparator": "equals", "value": "active"}],
    "inactive": [{"fieldKey": "status", "comparator": "equals", "value": "inactive"}],
    "unpaid": [{"fieldKey": "status", "comparator": "equals", "value": "unpaid"}],
}
"""Bigcapital's predefined customer views that Counterpart's data can answer (its `overdue` needs
invoices); Bigcapital's custom views (customViewId) are not kept here."""


def view_q(slug: str) -> Q:
    if slug == "overdue":
        raise FilterRolesError(NO_OVERDUE)
    if slug not in VIEWS:
        raise FilterRolesError(f"No view {slug!r}. Views: {', '.join(VIEWS)}.")
    return roles_q(parse_roles(VIEWS[slug]))
