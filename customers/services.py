"""Every write to a customer goes through here: the API, the admin and the commands alike.

Each function writes atomically and records what it changed in the customer's history, in the
same atomic step, with the actor and the door it came through.

An edit of one customer (update, opening balance, activate, inactivate) is optimistic: the row is
read without a lock, and written only if its version is still the one read, together with its
history row (`customers.queries.customer_edit`: one statement on PostgreSQL). If another write
came in between, the edit is made again holding the row's lock, so a busy customer is edited in
turn and never refused for being busy; a client that sent If-Match gets 412, its tag being stale.
"""

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import DatabaseError, IntegrityError, connections, router, transaction
from django.utils import timezone

from common import metrics
from common import values as common_values
from common.actors import Actor
from common.errors import ApplicationError
from common.fields import json_value
from common.http import IfMatch
from organizations.models import Branch, Organization

from . import duplicates, events, matching, queries, selectors
from .fields import NAME_BY_ATTRIBUTE, writable_attributes
from .models import AMOUNT, CODE_TAKEN, Customer, CustomerChange, CustomerMerge

CREATABLE = writable_attributes("create")
UPDATABLE = writable_attributes("update")


def customer_not_found() -> ApplicationError:
    return ApplicationError(404, "CUSTOMER_NOT_FOUND", "Customer not found.")


def customer_code_taken() -> ApplicationError:
    return ApplicationError(
        400,
        "CUSTOMER_CODE_TAKEN",
        CODE_TAKEN,
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
    """Write one history row, numbered as an event (customers/events.py); `changes` maps model
    attributes to (old, new)."""
    change = change_row(customer=customer, action=action, actor=actor, changes=changes)
    events.record([change])
    return change


def change_row(
    *,
    customer: Customer,
    action: str,
    actor: Actor,
    changes: dict[str, tuple[Any, Any]],
    with_snapshot: bool = True,
) -> CustomerChange:
    """An unsaved history row, for code that writes many at once (events.record), with the
    customer's snapshot as it stands (after the change; before it, for a deletion)."""
    return CustomerChange(
        organization_id=customer.organization_id,
        customer_id=customer.pk,
        customer_display_name=customer.display_name,
        action=action,
        door=actor.door,
        actor_user=actor.user,
        actor_api_key=actor.api_key,
        changes=history_changes(changes),
        snapshot=events.snapshot(customer) if with_snapshot else None,
    )


def history_changes(changes: dict[str, tuple[Any, Any]]) -> dict[str, list]:
    """The history's form of `changes`: API field names to `[old, new]` in the API's JSON form."""
    return {
        NAME_BY_ATTRIBUTE.get(attribute, attribute): [json_value(old), json_value(new)]
        for attribute, (old, new) in changes.items()
    }


def check_branch(organization: Organization, branch_id: int | None) -> None:
    """The opening balance's branch, if any, must be the organization's (every door)."""
    if (
        branch_id is not None
        and not Branch.objects.filter(organization=organization, pk=branch_id).exists()
    ):
        raise branch_not_found()


def branch_not_found() -> ApplicationError:
    return ApplicationError(
        400,
        "BRANCH_ID_NOT_FOUND",
        "No branch with this id in this organization.",
        field="openingBalanceBranchId",
    )


def check_opening_balance(amount: Decimal, at) -> None:
    """An opening balance other than zero needs its date (every door)."""
    if amount and at is None:
        raise ApplicationError(
            400,
            "VALIDATION_ERROR",
            "Required when openingBalance is not zero.",
            field="openingBalanceAt",
        )


ON_DUPLICATE = ("allow", "reject")


def possible_duplicate(matches: list[matching.Match]) -> ApplicationError:
    listed = ", ".join(
        f"{match.customer.pk} ({match.customer.display_name}: {', '.join(match.reasons)})"
        for match in matches
    )
    return ApplicationError(
        409,
        "CUSTOMER_POSSIBLE_DUPLICATE",
        f"This customer looks like an existing one: {listed}. Merge them, or create it anyway "
        "with ?onDuplicate=allow.",
        extra={"candidates": [match_data(match) for match in matches]},
    )


def match_data(match: matching.Match) -> dict:
    return {
        "id": match.customer.pk,
        "displayName": match.customer.display_name,
        "score": match.score,
        "reasons": match.reasons,
    }


@transaction.atomic
def customer_create(
    *, organization: Organization, data: dict, actor: Actor, on_duplicate: str | None = None
) -> Customer:
    """Create a customer from validated `data` ({attribute: value}); balance starts at the
    opening balance.

    A strong match with an existing customer (customers/matching.py) is refused with 409
    CUSTOMER_POSSIBLE_DUPLICATE when `on_duplicate` is "reject", or when it is None and the
    organization says so; otherwise the customer is created and the matches are left in its
    `possible_duplicates`, for the door to show."""
    _require_only(CREATABLE, data)
    customer = Customer(organization=organization, **data)
    check_opening_balance(customer.opening_balance, customer.opening_balance_at)
    check_branch(organization, customer.opening_balance_branch_id)
    customer.balance = customer.opening_balance
    if on_duplicate is None:
        on_duplicate = "reject" if organization.reject_possible_duplicates else "allow"
    strong = duplicates.candidates(customer, organization, threshold=matching.STRONG_THRESHOLD)
    if strong and on_duplicate == "reject":
        raise possible_duplicate(strong)
    customer.possible_duplicates = strong
    try:
        with transaction.atomic():
            customer.save(force_insert=True)
    except IntegrityError:
        if customer.code is not None:
            raise customer_code_taken() from None
        raise
    duplicates.store([customer], region=organization.phone_region, replace=False)
    record_change(
        customer=customer,
        action=CustomerChange.Action.CREATE,
        actor=actor,
        changes={attribute: (None, getattr(customer, attribute)) for attribute in data},
    )
    events.announce(organization)
    return customer


def _current_customer(
    organization: Organization, customer_id: int, if_match: IfMatch | None
) -> Customer:
    """The customer as it is now, unlocked, after If-Match is checked."""
    customer = selectors.customer_get(organization=organization, customer_id=customer_id)
    return _matching(customer, if_match)


def _locked_customer(
    organization: Organization, customer_id: int, if_match: IfMatch | None
) -> Customer:
    """The customer, row-locked until the transaction ends, after If-Match is checked."""
    customer = selectors.customer_get_for_update(organization=organization, customer_id=customer_id)
    return _matching(customer, if_match)


def _matching(customer: Customer | None, if_match: IfMatch | None) -> Customer:
    if customer is None:
        raise customer_not_found()
    if if_match is not None and not if_match.matches(customer.etag):
        raise ApplicationError(
            412,
            "PRECONDITION_FAILED",
            "The customer has changed since you read it: fetch it again and retry.",
        )
    return customer


def _edit(
    *,
    organization: Organization,
    customer_id: int,
    if_match: IfMatch | None,
    actor: Actor,
    action: str,
    changes_for: Callable[[Customer], dict],
) -> Customer:
    """Apply `changes_for(customer)` ({attribute: value}; it may refuse by raising) to one
    customer, optimistically first (the module's docstring says how)."""
    region = organization.phone_region
    with _optimistic_transaction(organization):
        customer = _current_customer(organization, customer_id, if_match)
        if _apply(customer, changes_for(customer), action=action, actor=actor, region=region):
            events.announce(organization)
            return customer
    with transaction.atomic():
        customer = _locked_customer(organization, customer_id, if_match)
        if not _apply(customer, changes_for(customer), action=action, actor=actor, region=region):
            raise DatabaseError("A customer changed while its row was locked.")
        events.announce(organization)
    return customer


def _optimistic_transaction(organization: Organization):
    """Inside a caller's transaction, a savepoint, so that a refused write leaves that transaction
    usable. Outside one, nothing: the write is one statement, atomic by itself; unless webhooks
    listen, whose dispatch job must commit with it (events.announce): then a transaction."""
    using = router.db_for_write(Customer)
    if connections[using].in_atomic_block or organization.delivers_webhooks:
        return transaction.atomic(using=using)
    return nullcontext()


def _apply(customer: Customer, changes: dict, *, action: str, actor: Actor, region: str) -> bool:
    """Write the attributes of `changes` that differ, bump the version and record the history,
    if the customer's row still has the version `customer` was read with. False if it has not
    (another write came first, or the customer is gone): then nothing is written. A change to
    what identifies the customer rewrites its identity signals in the same transaction."""
    changed = {
        attribute: (getattr(customer, attribute), value)
        for attribute, value in changes.items()
        if getattr(customer, attribute) != value
    }
    if not changed:
        return True
    read_version = customer.version
    for attribute, (_, new) in changed.items():
        setattr(customer, attribute, new)
    customer.version += 1
    customer.updated_at = timezone.now()
    identity = not matching.IDENTITY_ATTRIBUTES.isdisjoint(changed)
    try:
        # One statement with its history row and, for an identity change, its new signals.
        return queries.customer_edit(
            customer,
            [*changed, "version", "updated_at"],
            read_version=read_version,
            history=change_row(customer=customer, action=action, actor=actor, changes=changed),
            signals=matching.signals(customer, region) if identity else None,
        )
    except IntegrityError:
        if "code" in changed:
            raise customer_code_taken() from None
        raise


def customer_update(
    *,
    organization: Organization,
    customer_id: int,
    changes: dict,
    actor: Actor,
    if_match: IfMatch | None = None,
) -> Customer:
    """Apply `changes` ({attribute: value}, already validated) to one customer.

    Fields not in `changes` keep their stored values. A write that changes nothing leaves the row,
    its version and its ETag as they were, and records nothing.
    """
    _require_only(UPDATABLE, changes)
    return _edit(
        organization=organization,
        customer_id=customer_id,
        if_match=if_match,
        actor=actor,
        action=CustomerChange.Action.UPDATE,
        changes_for=lambda customer: changes,
    )


def customer_set_opening_balance(
    *,
    organization: Organization,
    customer_id: int,
    amount: Decimal,
    at=None,
    exchange_rate: Decimal | None = None,
    branch_id: int | None = None,
    actor: Actor,
    if_match: IfMatch | None = None,
) -> Customer:
    """Set the opening balance; the receivable balance moves by the same difference."""

    def changes_for(customer: Customer) -> dict:
        opening_at = at if at is not None else customer.opening_balance_at
        check_opening_balance(amount, opening_at)
        check_branch(organization, branch_id)
        changes = {
            "opening_balance": amount,
            "opening_balance_at": opening_at,
            "opening_balance_branch_id": branch_id,
            "balance": customer.balance + amount - customer.opening_balance,
        }
        if exchange_rate is not None:
            changes["opening_balance_exchange_rate"] = exchange_rate
        return changes

    return _edit(
        organization=organization,
        customer_id=customer_id,
        if_match=if_match,
        actor=actor,
        action=CustomerChange.Action.OPENING_BALANCE,
        changes_for=changes_for,
    )


def _set_active(
    *, organization, customer_id, active: bool, actor: Actor, if_match: IfMatch | None
) -> Customer:
    def changes_for(customer: Customer) -> dict:
        if customer.active == active:
            state = "ACTIVE" if active else "INACTIVE"
            raise ApplicationError(
                400, f"CONTACT_ALREADY_{state}", f"The customer is already {state.lower()}."
            )
        return {"active": active}

    return _edit(
        organization=organization,
        customer_id=customer_id,
        if_match=if_match,
        actor=actor,
        action=CustomerChange.Action.ACTIVATE if active else CustomerChange.Action.INACTIVATE,
        changes_for=changes_for,
    )


def customer_activate(
    *, organization: Organization, customer_id: int, actor: Actor, if_match: IfMatch | None = None
) -> Customer:
    return _set_active(
        organization=organization,
        customer_id=customer_id,
        active=True,
        actor=actor,
        if_match=if_match,
    )


def customer_inactivate(
    *, organization: Organization, customer_id: int, actor: Actor, if_match: IfMatch | None = None
) -> Customer:
    return _set_active(
        organization=organization,
        customer_id=customer_id,
        active=False,
        actor=actor,
        if_match=if_match,
    )


def customer_has_transactions() -> ApplicationError:
    return ApplicationError(
        400,
        "CUSTOMER_HAS_TRANSACTIONS",
        "The customer has transactions (its balance differs from its opening balance).",
    )


@transaction.atomic
def customer_delete(
    *, organization: Organization, customer_id: int, actor: Actor, if_match: IfMatch | None = None
) -> int:
    """Delete a customer without transactions; its history stays. Returns the id."""
    customer = _locked_customer(organization, customer_id, if_match)
    if customer.has_transactions:
        raise customer_has_transactions()
    record_change(
        customer=customer,
        action=CustomerChange.Action.DELETE,
        actor=actor,
        changes={"display_name": (customer.display_name, None)},
    )
    duplicates.forget(organization.pk, [customer.pk])
    Customer.objects.filter(organization=organization, pk=customer.pk).delete()
    events.announce(organization)
    return customer_id


@dataclass(frozen=True)
class BulkDeleteCheck:
    deletable_ids: list[int]
    non_deletable_ids: list[int]


def customer_bulk_delete_check(*, organization: Organization, ids: list[int]) -> BulkDeleteCheck:
    """Which of `ids` could be deleted now. Ids of no customer of this organization (missing or
    another organization's) cannot be, and are told apart from nothing else."""
    return _bulk_delete_check(Customer.objects.filter(organization=organization, pk__in=ids), ids)


def _bulk_delete_check(customers, ids: list[int]) -> BulkDeleteCheck:
    deletable = {customer.pk for customer in customers if not customer.has_transactions}
    return BulkDeleteCheck(
        deletable_ids=[pk for pk in ids if pk in deletable],
        non_deletable_ids=[pk for pk in ids if pk not in deletable],
    )


@transaction.atomic
def customer_bulk_delete(
    *,
    organization: Organization,
    ids: list[int],
    actor: Actor,
    skip_undeletable: bool = False,
) -> list[int]:
    """Delete the customers of `ids`, all or nothing: one that is missing or has transactions
    stops the whole request, unless `skip_undeletable`, which deletes the others. Returns the
    deleted ids; every deleted customer keeps its history."""
    customers = list(
        Customer.objects.select_for_update()
        .filter(organization=organization, pk__in=ids)
        .order_by("pk")
    )
    check = _bulk_delete_check(customers, ids)
    if check.non_deletable_ids and not skip_undeletable:
        found = {customer.pk for customer in customers}
        missing = [pk for pk in check.non_deletable_ids if pk not in found]
        if missing:
            raise ApplicationError(
                404, "CUSTOMER_NOT_FOUND", f"No customer with id {_listed(missing)}.", field="ids"
            )
        raise ApplicationError(
            400,
            "CUSTOMER_HAS_TRANSACTIONS",
            f"Customers with transactions cannot be deleted: {_listed(check.non_deletable_ids)}.",
            field="ids",
        )
    deletable = set(check.deletable_ids)
    doomed = [customer for customer in customers if customer.pk in deletable]
    events.record(
        [
            change_row(
                customer=customer,
                action=CustomerChange.Action.DELETE,
                actor=actor,
                changes={"display_name": (customer.display_name, None)},
            )
            for customer in doomed
        ]
    )
    duplicates.forget(organization.pk, list(deletable))
    Customer.objects.filter(organization=organization, pk__in=deletable).delete()
    events.announce(organization)
    return check.deletable_ids


def _listed(ids: list[int]) -> str:
    return ", ".join(str(pk) for pk in ids)


def customer_import(
    *,
    organization: Organization,
    stream,
    fmt: str,
    actor: Actor,
    mode: str = "create",
    match: str = "code",
    skip_invalid: bool = False,
    dry_run: bool = False,
    ignore_unknown_columns: bool = False,
    errors_to=None,
    progress: Callable[[int], None] | None = None,
    mapping: dict[str, str] | None = None,
    date_formats: dict[str, str] | None = None,
    on_duplicate: str = "allow",
):
    """Customers from a file, all or nothing, by the rules of customer_create and customer_update.

    A new customer strongly like another (an earlier row of the file, or the book's) is reported
    in `result.duplicates`; `on_duplicate` "skip" leaves those rows out, "reject" refuses the
    whole file (ImportRefused; a dry run still reports), "allow" creates them.

    `mode` "create" creates every row (a code taken refuses the row), "update" updates customers
    matched by `match` ("code" or lower-cased "email"), "upsert" does either. A new customer's
    balance starts at its opening balance; a matched one is written only where it differs, its
    version bumped; each write records one history row (change_row, history_changes' form).

    `mapping` (sheet column → field, Bigcapital's mapping step) replaces the file's own header;
    columns it leaves out are skipped. `date_formats` (field → a cells.DATE_FORMATS key) reads
    a date column written another way than ISO 8601.

    Any failed row writes nothing, unless `skip_invalid`; `dry_run` writes nothing either way.
    Rows are read, checked and staged, and written set-wise, by customers/importing (its SQL is
    in customers/importing/apply.py). Returns an ImportResult; a file that cannot be imported at
    all raises ImportRefused.
    """
    # Imported here: the importing machinery uses this module's rules and messages.
    from .importing import apply
    from .importing.service import CONFLICT, ImportRefused, ImportRun
    from .importing.staging import TABLE

    run = ImportRun(
        organization=organization,
        stream=stream,
        fmt=fmt,
        mode=mode,
        match=match,
        ignore_unknown_columns=ignore_unknown_columns,
        dry_run=dry_run,
        errors_to=errors_to,
        progress=progress,
        mapping=mapping,
        date_formats=date_formats,
    )
    result = run.result
    try:
        with transaction.atomic(), connections["default"].cursor() as cursor:
            failed = run.stage(cursor)
            if result.failed and not skip_invalid:
                transaction.set_rollback(True)
                return result
            run.staging.discard(cursor, sorted(failed))
            matched = run.matched(cursor)
            started = timezone.now()
            if mode != "update":
                result.created = apply.create_new(
                    cursor, run.staging, action=CustomerChange.Action.CREATE, actor=actor
                )
            if mode != "create":
                result.updated = apply.update_matched(
                    cursor, run.staging, action=CustomerChange.Action.UPDATE, actor=actor
                )
                result.unchanged = matched - result.updated
            # The set-wise SQL bypasses the models: the written customers' signals, from their rows.
            duplicates.refresh(
                organization,
                Customer.objects.filter(organization=organization, updated_at__gte=started),
                rebuild=result.created + result.updated > duplicates.REBUILD_CUSTOMERS,
            )
            if result.created:
                _import_duplicates(cursor, TABLE, organization, started, result, on_duplicate)
            if not dry_run:
                events.number_pending(organization.pk)  # the set-wise history, as events
                events.announce(organization)
            run.staging.drop(cursor)
            result.applied = True
            if dry_run:
                transaction.set_rollback(True)
    except IntegrityError:
        # The checks ran on what the database held then; another writer got in since.
        raise ImportRefused(CONFLICT) from None
    finally:
        _count_import_rows(result)
    if result.written:
        duplicates.catch_up(organization.pk)  # the import's wait, not the next report's
    return result


def _import_duplicates(cursor, table, organization, started, result, on_duplicate) -> None:
    """Find the strong matches of the customers this import created, then report, skip or
    refuse them (customer_import's `on_duplicate`)."""
    from .importing.service import ImportRefused, RowDuplicate

    new_ids = list(
        Customer.objects.filter(organization=organization, created_at__gte=started)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    # New customers are inserted in the file's order (apply.create_new), so ids follow rows.
    cursor.execute(f"SELECT row_number FROM {table} WHERE customer_id IS NULL ORDER BY row_number")  # noqa: S608
    row_of = dict(zip(new_ids, (row for (row,) in cursor.fetchall()), strict=False))
    found = duplicates.among_new(organization, new_ids)
    result.duplicates = [
        RowDuplicate(
            row=row_of.get(duplicate.customer_id, 0),
            other_id=None if duplicate.in_file else duplicate.other_id,
            other_row=row_of.get(duplicate.other_id) if duplicate.in_file else None,
            score=duplicate.score,
        )
        for duplicate in found
    ]
    if not found or on_duplicate == "allow":
        return
    if on_duplicate == "reject":
        if result.dry_run:
            return
        listed = " ".join(duplicate.message for duplicate in result.duplicates[:10])
        raise ImportRefused(
            f"{len(found)} row(s) look like existing customers or earlier rows. {listed}"
        )
    skipped = [duplicate.customer_id for duplicate in found]
    CustomerChange.objects.filter(
        organization=organization, customer_id__in=skipped, position__isnull=True
    ).delete()
    duplicates.forget(organization.pk, skipped)
    Customer.objects.filter(organization=organization, pk__in=skipped).delete()
    result.created -= len(skipped)
    result.skipped_duplicates = len(skipped)


def _count_import_rows(result) -> None:
    """The operators' counters (common.metrics): rows written, and rows refused."""
    if result.written:
        metrics.IMPORT_ROWS.labels("created").inc(result.created)
        metrics.IMPORT_ROWS.labels("updated").inc(result.updated)
        metrics.IMPORT_ROWS.labels("unchanged").inc(result.unchanged)
    metrics.IMPORT_ROWS.labels("failed").inc(result.failed)


# Merging (contract section 11) ---------------------------------------------------------------

UNMERGE_WINDOW = timedelta(days=30)
MERGE_CHOICES = ("source", "into")
_EMPTY = ("", None)


def customer_merged(merge: CustomerMerge, *, status_code: int = 404, field=None):
    return ApplicationError(
        status_code,
        "CUSTOMER_MERGED",
        f"Customer {merge.source_id} was merged into customer {merge.target_id}.",
        field=field,
        extra={"mergedInto": merge.target_id},
    )


def active_merge(organization: Organization, customer_id: int) -> CustomerMerge | None:
    """The merge that took this id away, if it is merged (and not unmerged)."""
    return CustomerMerge.objects.filter(
        organization=organization, source_id=customer_id, undone_at__isnull=True
    ).first()


def customer_missing(organization: Organization, customer_id: int) -> ApplicationError:
    """The answer for an id with no customer: CUSTOMER_MERGED with `mergedInto` if it was
    merged away, CUSTOMER_NOT_FOUND otherwise (another organization's ids included)."""
    merge = active_merge(organization, customer_id)
    return customer_not_found() if merge is None else customer_merged(merge)


def _serialized(customer: Customer) -> dict[str, str | None]:
    """Every column of the row, each as its field's own string form (Field.value_to_string:
    exact decimals, date-times to the microsecond), to come back exactly by `_deserialized`."""
    return {
        field.attname: None
        if getattr(customer, field.attname) is None
        else field.value_to_string(customer)
        for field in Customer._meta.concrete_fields
    }


def _deserialized(row: dict[str, str | None]) -> Customer:
    return Customer(
        **{
            field.attname: None
            if row[field.attname] is None
            else field.to_python(row[field.attname])
            for field in Customer._meta.concrete_fields
        }
    )


def _merge_values(source: Customer, target: Customer, choices: dict[str, str]) -> dict:
    """The survivor's new values: each chosen field from its side (by default the survivor's,
    or the source's where the survivor's is empty), and the money added up."""
    values = {}
    for attribute in sorted(UPDATABLE):
        choice = choices.get(attribute)
        mine, theirs = getattr(target, attribute), getattr(source, attribute)
        if choice == "source" or (
            choice is None and mine in ("", None) and theirs not in ("", None)
        ):
            values[attribute] = theirs
        else:
            values[attribute] = mine
    if (
        source.opening_balance
        and target.opening_balance
        and source.opening_balance_exchange_rate != target.opening_balance_exchange_rate
    ):
        raise ApplicationError(
            400,
            "MERGE_EXCHANGE_RATE_MISMATCH",
            "Both customers have opening balances at different exchange rates; set one "
            "opening balance to zero or to the other's rate first.",
            field="into",
        )
    values["balance"] = target.balance + source.balance
    values["opening_balance"] = target.opening_balance + source.opening_balance
    for attribute, label in (("balance", "balances"), ("opening_balance", "opening balances")):
        try:
            common_values.decimal(values[attribute], **AMOUNT)
        except common_values.InvalidValue:
            raise ApplicationError(
                400,
                "MERGE_AMOUNT_TOO_LARGE",
                f"The two customers' {label} add up to more than an amount can hold "
                f"({AMOUNT['max_digits'] - AMOUNT['decimal_places']} digits before the point).",
                field="into",
            ) from None
    dates = [at for at in (target.opening_balance_at, source.opening_balance_at) if at]
    values["opening_balance_at"] = min(dates) if dates else None
    values["opening_balance_branch_id"] = (
        target.opening_balance_branch_id or source.opening_balance_branch_id
    )
    if source.opening_balance and not target.opening_balance:
        values["opening_balance_exchange_rate"] = source.opening_balance_exchange_rate
    return values


def _write(customer: Customer, values: dict) -> dict[str, tuple[Any, Any]]:
    """Write `values` that differ to a row-locked `customer`, bump its version; what changed."""
    changed = {
        attribute: (getattr(customer, attribute), value)
        for attribute, value in values.items()
        if getattr(customer, attribute) != value
    }
    for attribute, (_, value) in changed.items():
        setattr(customer, attribute, value)
    customer.version += 1
    customer.updated_at = timezone.now()
    Customer.objects.filter(organization_id=customer.organization_id, pk=customer.pk).update(
        **{attribute: value for attribute, (_, value) in changed.items()},
        version=customer.version,
        updated_at=customer.updated_at,
    )
    return changed


def _locked_pair(organization: Organization, source_id: int, target_id: int) -> dict:
    """Both customers row-locked, in id order (two merges of one pair never deadlock)."""
    return {
        customer.pk: customer
        for customer in Customer.objects.select_for_update()
        .filter(organization=organization, pk__in=[source_id, target_id])
        .order_by("pk")
    }


@transaction.atomic
def customer_merge(
    *,
    organization: Organization,
    customer_id: int,
    into_id: int,
    choices: dict[str, str],
    actor: Actor,
    if_match: IfMatch | None = None,
    into_if_match: IfMatch | None = None,
) -> Customer:
    """Merge customer `customer_id` (the source) into `into_id` (the survivor), all or nothing.

    `choices` maps attributes to "source" or "into": whose value the survivor keeps (by
    default its own, or the source's where its own is empty). Balances and opening balances are
    added up (same currency only); the source's history moves to the survivor; the source's row
    goes, and a CustomerMerge answers for its id and keeps what `customer_unmerge` needs. Both
    customers get a history row (an event, `customer.merged`). Returns the survivor.
    """
    _require_only(UPDATABLE, choices)
    locked = _locked_pair(organization, customer_id, into_id)
    if customer_id not in locked:
        raise customer_missing(organization, customer_id)
    if customer_id == into_id:
        raise ApplicationError(
            400, "MERGE_INTO_SELF", "A customer cannot be merged into itself.", field="into"
        )
    if into_id not in locked:
        merge = active_merge(organization, into_id)
        if merge is not None:
            raise customer_merged(merge, status_code=400, field="into")
        raise ApplicationError(
            400, "CUSTOMER_NOT_FOUND", f"No customer with id {into_id}.", field="into"
        )
    source = _matching(locked[customer_id], if_match)
    target = _matching(locked[into_id], into_if_match)
    if source.currency_code != target.currency_code:
        raise ApplicationError(
            400,
            "MERGE_CURRENCY_MISMATCH",
            f"The customers' currencies differ ({source.currency_code} and "
            f"{target.currency_code}): only customers in one currency can be merged.",
            field="into",
        )
    values = _merge_values(source, target, choices)
    before = _serialized(target)
    source_row = _serialized(source)
    moved = list(
        CustomerChange.objects.filter(organization=organization, customer_id=source.pk)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    CustomerChange.objects.filter(organization=organization, pk__in=moved).update(
        customer_id=target.pk
    )
    duplicates.forget(organization.pk, [source.pk])
    # The source goes first, so the survivor may take its code.
    Customer.objects.filter(organization=organization, pk=source.pk).delete()
    changed = _write(target, values)
    duplicates.store([target], region=organization.phone_region)
    CustomerMerge.objects.create(
        organization=organization,
        source_id=source.pk,
        target_id=target.pk,
        source_row=source_row,
        target_before=before,
        target_after=_serialized(target),
        moved_change_ids=moved,
        merged_at=timezone.now(),
    )
    events.record(
        [
            change_row(
                customer=source,
                action=CustomerChange.Action.MERGE,
                actor=actor,
                changes={"mergedInto": (None, target.pk)},
            ),
            change_row(
                customer=target,
                action=CustomerChange.Action.MERGE,
                actor=actor,
                changes={**changed, "mergedFrom": (None, source.pk)},
            ),
        ]
    )
    events.announce(organization)
    return target


def _ambiguous(fields: list[str]) -> ApplicationError:
    names = sorted(NAME_BY_ATTRIBUTE.get(attribute, attribute) for attribute in fields)
    return ApplicationError(
        409,
        "MERGE_AMBIGUOUS",
        "The surviving customer changed since the merge, so it cannot be split back exactly: "
        f"{', '.join(names)}. Undo those changes, or split the customers by hand.",
        extra={"fields": names},
    )


@transaction.atomic
def customer_unmerge(
    *,
    organization: Organization,
    customer_id: int,
    actor: Actor,
    if_match: IfMatch | None = None,
) -> Customer:
    """Undo the merge of customer `customer_id` (the source), within UNMERGE_WINDOW: the source
    comes back as it was (id, values, balances, history), and the survivor gets back its values
    from before the merge. A field the merge wrote on the survivor and that has changed since
    makes the split ambiguous: 409 MERGE_AMBIGUOUS naming it, and nothing is written. Later
    changes to other fields stay. `if_match` is checked against the survivor. Returns the
    source."""
    merge = (
        CustomerMerge.objects.select_for_update()
        .filter(organization=organization, source_id=customer_id, undone_at__isnull=True)
        .first()
    )
    if merge is None:
        if selectors.customer_exists(organization=organization, customer_id=customer_id):
            raise ApplicationError(
                400, "CUSTOMER_NOT_MERGED", "This customer is not merged into another."
            )
        raise customer_not_found()
    if merge.merged_at < timezone.now() - UNMERGE_WINDOW:
        raise ApplicationError(
            409,
            "UNMERGE_EXPIRED",
            f"A merge can be undone for {UNMERGE_WINDOW.days} days; this one is older.",
        )
    target = selectors.customer_get_for_update(
        organization=organization, customer_id=merge.target_id
    )
    if target is None:
        raise ApplicationError(
            409,
            "MERGE_AMBIGUOUS",
            f"Customer {merge.target_id}, which this one was merged into, is gone (deleted or "
            "merged itself): undo that first.",
            extra={"fields": []},
        )
    target = _matching(target, if_match)
    before, after = _deserialized(merge.target_before), _deserialized(merge.target_after)
    written = [
        field.attname
        for field in Customer._meta.concrete_fields
        if getattr(before, field.attname) != getattr(after, field.attname)
        and field.attname not in ("version", "updated_at")
    ]
    moved_on = [a for a in written if getattr(target, a) != getattr(after, a)]
    if moved_on:
        raise _ambiguous(moved_on)
    changed = _write(target, {attribute: getattr(before, attribute) for attribute in written})
    source = _deserialized(merge.source_row)
    created_at = source.created_at
    source.version += 1
    try:
        with transaction.atomic():
            Customer.objects.bulk_create([source])
    except IntegrityError:
        raise _ambiguous(["code"]) from None  # another customer took the source's code since
    Customer.objects.filter(organization=organization, pk=source.pk).update(created_at=created_at)
    source.created_at = created_at
    CustomerChange.objects.filter(organization=organization, pk__in=merge.moved_change_ids).update(
        customer_id=source.pk
    )
    duplicates.store([target], region=organization.phone_region)
    duplicates.store([source], region=organization.phone_region, replace=False)
    CustomerMerge.objects.filter(organization=organization, pk=merge.pk).update(
        undone_at=timezone.now()
    )
    events.record(
        [
            change_row(
                customer=source,
                action=CustomerChange.Action.UNMERGE,
                actor=actor,
                changes={"mergedInto": (target.pk, None)},
            ),
            change_row(
                customer=target,
                action=CustomerChange.Action.UNMERGE,
                actor=actor,
                changes={**changed, "mergedFrom": (source.pk, None)},
            ),
        ]
    )
    events.announce(organization)
    return source
