"""What a browser would POST from the customer change form."""

from customers.admin_forms import form_attributes
from customers.models import Customer

# The opening balance's date and branch are posted in their widgets' own shapes below.
POSTED_AS_IS = [
    name
    for name in form_attributes()
    if name not in ("currency_code", "active", "opening_balance_at", "opening_balance_branch")
]


def change_form_data(customer: Customer, **overrides) -> dict:
    data = {name: getattr(customer, name) for name in POSTED_AS_IS}
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
