"""The API speaks camelCase; Python and the database speak snake_case."""

import re


def to_snake(name: str) -> str:
    """`billingAddress1` → `billing_address_1`, `openingBalanceAt` → `opening_balance_at`."""
    return re.sub(r"(?<=[a-z])(?=[A-Z0-9])", "_", name).lower()


def to_camel(name: str) -> str:
    """`billing_address_1` → `billingAddress1`: the inverse of `to_snake` for the API's names."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)
