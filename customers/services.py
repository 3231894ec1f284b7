"""Every write to a customer goes through here: the API, the admin and the commands alike."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from authkeys.authentication import Principal
from common.errors import ApplicationError
from common.http import IfMatch
from organizations.models import Organization

from .fields import writable_attributes
from .models import Customer

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


def customer_update(
    *,
    organization: Organization,
    customer_id: int,
    changes: dict,
    actor: Principal | None,
    if_match: IfMatch | None = None,
) -> Customer:
    """Apply `changes` ({attribute: value}, already validated) to one customer.

    The row is locked before If-Match is compared, so the check and the write are one atomic
    step. Fields not in `changes` keep their stored values. A write that changes nothing leaves
    the row, its version and its ETag as they were.
    """
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")

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
            attribute: value
            for attribute, value in changes.items()
            if getattr(customer, attribute) != value
        }
        if not changed:
            return customer
        for attribute, value in changed.items():
            setattr(customer, attribute, value)
        customer.version += 1
        customer.updated_at = timezone.now()
        try:
            with transaction.atomic():
                customer.save(update_fields=[*changed, "version", "updated_at"])
        except IntegrityError:
            if "code" in changed:
                raise customer_code_taken() from None
            raise
    return customer
