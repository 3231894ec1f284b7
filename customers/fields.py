"""The customer resource, once: every field of API contract section 4.

Each entry names the field as the API spells it (camelCase), its kind, how it may be written on
create and on update, and any extra input spellings. Everything else is derived from here: the
model attribute and the snake_case spelling (`billingAddress1` → `billing_address_1`), the API's
input and output serializers, the OpenAPI components, and the import's column names.
"""

from dataclasses import dataclass
from enum import Enum

from common.naming import to_snake


class Kind(Enum):
    ID = "id"
    TEXT = "text"
    NAME = "name"  # required, non-blank text
    EMAIL = "email"
    NOTE = "note"
    CODE = "code"
    CUSTOMER_TYPE = "customer_type"
    BOOLEAN = "boolean"
    CURRENCY = "currency"
    AMOUNT = "amount"
    RATE = "rate"
    DATETIME = "datetime"
    BRANCH = "branch"


class Access(Enum):
    REQUIRED = "required"
    OPTIONAL = "optional"
    READ_ONLY = "read_only"


REQ, OPT, RO = Access.REQUIRED, Access.OPTIONAL, Access.READ_ONLY


@dataclass(frozen=True)
class CustomerField:
    name: str
    kind: Kind
    on_create: Access
    on_update: Access
    description: str
    input_aliases: tuple[str, ...] = ()

    @property
    def attribute(self) -> str:
        return to_snake(self.name)

    @property
    def input_names(self) -> tuple[str, ...]:
        return (self.name, *self.input_aliases)

    @property
    def label(self) -> str:
        return to_snake(self.name).replace("_", " ").title()


def _text(name: str, description: str, kind: Kind = Kind.TEXT, **kwargs) -> CustomerField:
    return CustomerField(name, kind, OPT, OPT, description, **kwargs)


def _address(side: str) -> list[CustomerField]:
    prefix, label = f"{side}Address", f"{side.capitalize()} address"
    return [
        _text(f"{prefix}1", f"{label} line 1"),
        _text(f"{prefix}2", f"{label} line 2"),
        _text(f"{prefix}City", f"{label} city"),
        _text(f"{prefix}Country", f"{label} country"),
        _text(f"{prefix}Email", f"{label} email", Kind.EMAIL),
        _text(
            f"{prefix}Postcode",
            f"{label} postcode (zipcode)",
            input_aliases=(f"{prefix}Zipcode",),
        ),
        _text(f"{prefix}Phone", f"{label} phone"),
        _text(f"{prefix}State", f"{label} state"),
    ]


FIELDS: tuple[CustomerField, ...] = (
    CustomerField("id", Kind.ID, RO, RO, "Customer id"),
    CustomerField("customerType", Kind.CUSTOMER_TYPE, REQ, REQ, "Customer type"),
    CustomerField("displayName", Kind.NAME, REQ, REQ, "Display name"),
    _text("code", "Customer code, unique within the organization", Kind.CODE),
    _text("salutation", "Salutation"),
    _text("firstName", "First name"),
    _text("lastName", "Last name"),
    _text("companyName", "Company name"),
    _text("email", "Email", Kind.EMAIL),
    _text("workPhone", "Work phone"),
    _text("personalPhone", "Personal phone"),
    _text("website", "Website"),
    *_address("billing"),
    *_address("shipping"),
    _text("note", "Note", Kind.NOTE),
    CustomerField("active", Kind.BOOLEAN, OPT, OPT, "Active status"),
    CustomerField("currencyCode", Kind.CURRENCY, REQ, RO, "ISO 4217 currency code"),
    CustomerField("openingBalance", Kind.AMOUNT, OPT, RO, "Opening balance"),
    CustomerField("openingBalanceAt", Kind.DATETIME, OPT, RO, "Date of the opening balance"),
    CustomerField("openingBalanceExchangeRate", Kind.RATE, OPT, RO, "Opening balance rate"),
    CustomerField("openingBalanceBranchId", Kind.BRANCH, OPT, RO, "Branch of the opening balance"),
    CustomerField("balance", Kind.AMOUNT, RO, RO, "Receivable balance"),
    CustomerField("closingBalance", Kind.AMOUNT, RO, RO, "Closing balance (equals balance)"),
    CustomerField(
        "localOpeningBalance", Kind.AMOUNT, RO, RO, "Opening balance in the base currency"
    ),
    CustomerField("createdAt", Kind.DATETIME, RO, RO, "Created at"),
    CustomerField("updatedAt", Kind.DATETIME, RO, RO, "Updated at"),
)

FIELDS_BY_NAME = {field.name: field for field in FIELDS}
NAME_BY_ATTRIBUTE = {field.attribute: field.name for field in FIELDS}


def writable(mode: str) -> tuple[CustomerField, ...]:
    """The fields a client may send when creating (`mode="create"`) or updating."""
    access = "on_create" if mode == "create" else "on_update"
    return tuple(field for field in FIELDS if getattr(field, access) is not Access.READ_ONLY)


def writable_attributes(mode: str) -> frozenset[str]:
    return frozenset(field.attribute for field in writable(mode))


def input_spellings() -> dict[str, tuple[CustomerField, str]]:
    """Every accepted input key → (field, the camelCase name to report it under)."""
    spellings = {}
    for field in FIELDS:
        for name in field.input_names:
            spellings[name] = (field, name)
            spellings[to_snake(name)] = (field, name)
    return spellings


INPUT_SPELLINGS = input_spellings()
