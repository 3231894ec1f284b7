"""What a browser would POST from the customer change form."""

from customers.admin import ADDRESS_PARTS
from customers.models import Customer

CONTACT = [
    "customer_type",
    "display_name",
    "code",
    "salutation",
    "first_name",
    "last_name",
    "company_name",
    "email",
    "work_phone",
    "personal_phone",
    "website",
]


def change_form_data(customer: Customer, **overrides) -> dict:
    attributes = [
        *CONTACT,
        *(f"{side}_address_{part}" for side in ("billing", "shipping") for part in ADDRESS_PARTS),
        "note",
        "opening_balance",
        "opening_balance_exchange_rate",
    ]
    data = {name: getattr(customer, name) for name in attributes}
    data = {name: "" if value is None else value for name, value in data.items()}
    at = customer.opening_balance_at
    data |= {
        "opening_balance_at_0": at.strftime("%Y-%m-%d") if at else "",
        "opening_balance_at_1": at.strftime("%H:%M:%S") if at else "",
        "opening_balance_branch": customer.opening_balance_branch_id or "",
        "loaded_version": customer.version,
    }
    if customer.active:
        data["active"] = "on"
    data |= overrides
    return {name: value for name, value in data.items() if value is not None}
