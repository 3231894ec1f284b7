"""Every write to a customer goes through here: the API, the admin and the commands alike.

Each function runs in one transaction and records what it changed in the customer's history,
in that same transaction, with the actor and the door it came through.
"""

from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from common.actors import Actor
from common.errors import ApplicationError
from common.fields import json_value
from common.http import IfMatch
from organizations.models import Branch, Organization

from .fields import NAME_BY_ATTRIBUTE, writable_attributes
from .models import Customer, CustomerChange

CREATABLE = writable_attributes("create")
UPDATABLE = writable_attributes("update")


def customer_not_found() -> ApplicationError:
    return ApplicationError(404, "CUSTOMER_NOT_FOUND", "Customer not found.")


def customer_code_taken() -> ApplicationError:
    return ApplicationError(
        400,
        "CUSTOMER_CODE_TAKEN",
        "Another customer of this organization already has this code.",
        field="code",
    )


def _require_only(allowed: frozenset[str], data: dict) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise ValueError(f"not writable here: {sorted(unknown)}")


def record_change(
    *,
    customer: Customer,
    action: str,
    actor: Actor,
    changes: dict[str, tuple[Any, Any]],
) -> CustomerChange:
    """Write one history row; `changes` maps model attributes to (old, new)."""
    return CustomerChange.objects.create(
        organization_id=customer.organization_id,
        customer_id=customer.pk,
        customer_display_name=customer.display_name,
        action=action,
        door=actor.door,
        actor_user=actor.user,
        actor_api_key=actor.api_key,
        changes={
            NAME_BY_ATTRIBUTE.get(attribute, attribute): [json_value(old), json_value(new)]
            for attribute, (old, new) in changes.items()
        },
    )


def _check_branch(organization: Organization, branch_id: int | None) -> None:
    if (
        branch_id is not None
        and not Branch.objects.filter(organization=organization, pk=branch_id).exists()
    ):
        raise ApplicationError(
            400,
            "BRANCH_ID_NOT_FOUND",
            "No branch with this id in this organization.",
            field="openingBalanceBranchId",
        )


def _check_opening_balance(amount: Decimal, at) -> None:
    if amount and at is None:
        raise ApplicationError(
            400,
            "VALIDATION_ERROR",
            "Required when openingBalance is not zero.",
            field="openingBalanceAt",
        )


@transaction.atomic
def customer_create(*, organization: Organization, data: dict, actor: Actor) -> Customer:
    """Create a customer from validated `data` ({attribute: value}); balance starts at the
    opening balance."""
    _require_only(CREATABLE, data)
    customer = Customer(organization=organization, **data)
    _check_opening_balance(customer.opening_balance, customer.opening_balance_at)
    _check_branch(organization, customer.opening_balance_branch_id)
    customer.balance = customer.opening_balance
    try:
        with transaction.atomic():
            customer.save(force_insert=True)
    except IntegrityError:
        if customer.code is not None:
            raise customer_code_taken() from None
        raise
    record_change(
        customer=customer,
        action=CustomerChange.Action.CREATE,
        actor=actor,
        changes={attribute: (None, getattr(customer, attribute)) for attribute in data},
    )
    return customer


def customer_update(
    *,
    organization: Organization,
    customer_id: int,
    changes: dict,
    actor: Actor,
    if_match: IfMatch | None = None,
) -> Customer:
    """Apply `changes` ({attribute: value}, already validated) to one customer.

    The row is locked before If-Match is compared, so the check and the write are one atomic
    step. Fields not in `changes` keep their stored values. A write that changes nothing leaves
    the row, its version and its ETag as they were, and records nothing.
    """
    _require_only(UPDATABLE, changes)
    with transaction.atomic():
        customer = (
            Customer.objects.select_for_update()
            .filter(organization=organization, pk=customer_id)
            .first()
        )
        if customer is None:
            raise customer_not_found()
        if if_match is not None and not if_match.matches(customer.etag):
            raise ApplicationError(
                412,
                "PRECONDITION_FAILED",
                "The customer has changed since you read it: fetch it again and retry.",
            )
        changed = {
            attribute: (getattr(customer, attribute), value)
            for attribute, value in changes.items()
            if getattr(customer, attribute) != value
        }
        if not changed:
            return customer
        for attribute, (_, new) in changed.items():
            setattr(customer, attribute, new)
        customer.version += 1
        customer.updated_at = timezone.now()
        try:
            with transaction.atomic():
                customer.save(update_fields=[*changed, "version", "updated_at"])
        except IntegrityError:
            if "code" in changed:
                raise customer_code_taken() from None
            raise
        record_change(
            customer=customer, action=CustomerChange.Action.UPDATE, actor=actor, changes=changed
        )
    return customer
