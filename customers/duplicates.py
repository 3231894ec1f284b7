"""Possible duplicates, found through the stored identity signals (customers/matching.py).

The services keep each customer's CustomerSignal rows in step with the customer, in the write's
own transaction (`store`, `forget`). Candidates are found by equal signals through the
`customersignal_match` index (organization, kind, value), never by comparing every customer with
every other; on PostgreSQL the name keys are also searched by trigram similarity (pg_trgm's `%`
through the partial index of migration 0009), so a misspelt name is found too. SQLite has no
trigram index: there a name must reduce to the same name key to be a candidate (`Acme Corp.` and
`ACME Corporation` still do). Every candidate is then scored in Python by matching.compare, the
same on both databases.

The organization-wide report (`pairs`) reads CustomerDuplicatePair: each pair of customers that
share a signal value held by 2 to GROUP_MAX customers, scored from the kinds they share in the
same weights as matching.compare, stored at LIST_THRESHOLD and up and read strongest first through
one index. A value shared by more than GROUP_MAX customers (a switchboard number, `info@`) says
nothing about any one pair and is skipped.

Writes do not compute pairs: every signal written or deleted is also written as a
CustomerSignalChange, in the same statement or transaction, and `catch_up`, which the report runs
first, turns the organization's changes into pairs and deletes them. It holds the organization's
event counter while it works (customers/events.py), as every write does until it commits, so it
sees no write commit halfway. A change touches the pairs of its customer and, when the value's
holders cross GROUP_MAX, of every holder of that value; `catch_up` recomputes the pairs of all of
them from their signals. Past REBUILD_AT changes (a large import) it rebuilds the organization's
pairs in one statement instead: `computed` below, which reads every signal of the organization
(one pass of the match index on PostgreSQL).
"""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import connections, router, transaction
from django.db.models import Q

from organizations.models import Organization

from . import events, matching
from .models import Customer, CustomerDuplicatePair, CustomerSignal, CustomerSignalChange

CANDIDATES_MAX = 50
PAGE_OFFSET_MAX = 2**40
TRIGRAM_SIMILARITY = 0.5
GROUP_MAX = 20
# Past this many changes `catch_up` rebuilds the pairs; an import that writes more than
# REBUILD_CUSTOMERS customers asks for that rebuild instead of writing a change per signal.
REBUILD_AT = 20_000
REBUILD_CUSTOMERS = 2_000
_SIGNALS = CustomerSignal._meta.db_table
_CHANGES = CustomerSignalChange._meta.db_table
_PAIRS_TABLE = CustomerDuplicatePair._meta.db_table
_COLUMNS = "(organization_id, customer_id, kind, value)"
_BATCH = 1000
_VALUES = 200  # values per statement of _holders (SQLite allows 500 terms in a UNION)
_SCORE_PLACES = Decimal("0.001")


def store(
    customers: list[Customer], *, region: str, replace: bool = True, noted: bool = True
) -> None:
    """Write the signals of `customers` (of one organization), replacing their old ones; each
    signal deleted or written is also a change for `catch_up`, unless not `noted` (the caller
    asks for a rebuild instead)."""
    if not customers:
        return
    organization_id = customers[0].organization_id
    if replace:
        forget(organization_id, [customer.pk for customer in customers], noted=noted)
    _insert(
        organization_id,
        [
            (customer.pk, kind, value)
            for customer in customers
            for kind, value in sorted(matching.signals(customer, region))
        ],
        noted=noted,
    )


def replace(organization_id: int, customer_id: int, signals: set[tuple[str, str]]) -> None:
    """Make the customer's stored signals `signals` (an edit's, computed already)."""
    forget(organization_id, [customer_id])
    _insert(organization_id, [(customer_id, kind, value) for kind, value in sorted(signals)])


def forget(organization_id: int, customer_ids: list[int], *, noted: bool = True) -> None:
    """Delete the signals of `customer_ids`, each written as a change first if `noted`."""
    connection = connections[router.db_for_write(CustomerSignal)]
    for start in range(0, len(customer_ids), _BATCH):
        batch = customer_ids[start : start + _BATCH]
        if noted:
            listed = ", ".join(["%s"] * len(batch))
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {_CHANGES} {_COLUMNS} SELECT {_COLUMNS[1:-1]} "  # noqa: S608
                    f"FROM {_SIGNALS} WHERE organization_id = %s AND customer_id IN ({listed})",
                    [organization_id, *batch],
                )
        CustomerSignal.objects.filter(
            organization_id=organization_id, customer_id__in=batch
        ).delete()


def _insert(organization_id: int, rows: list[tuple[int, str, str]], *, noted: bool = True) -> None:
    """Insert signals (customer id, kind, value), and the same as changes if `noted`. Rows of
    VALUES, not bulk_create's INSERT … SELECT FROM UNNEST, which Citus runs through the
    coordinator and commits in two phases."""
    connection = connections[router.db_for_write(CustomerSignal)]
    tables = (_SIGNALS, _CHANGES) if noted else (_SIGNALS,)
    for start in range(0, len(rows), _BATCH):
        batch = rows[start : start + _BATCH]
        values = ", ".join(["(%s, %s, %s, %s)"] * len(batch))
        params = [value for row in batch for value in (organization_id, *row)]
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"INSERT INTO {table} {_COLUMNS} VALUES {values}", params)  # noqa: S608


def ask_for_rebuild(organization_id: int) -> None:
    """A change without a customer: the next `catch_up` rebuilds the organization's pairs."""
    CustomerSignalChange.objects.create(
        organization_id=organization_id, customer_id=None, kind="", value=""
    )


def refresh(organization: Organization, customers, *, rebuild: bool = True) -> int:
    """Recompute the signals of `customers` (a queryset of the organization's), in batches;
    for writes that bypass the ORM (the import's set-wise SQL) and for the back-fill. With
    `rebuild` (many customers) the next `catch_up` rebuilds the pairs instead of reading a
    change per signal."""
    if rebuild:
        ask_for_rebuild(organization.pk)
    done = 0
    last_id = 0
    # Only what the signals are made of: an import's 64 KB notes stay in the database.
    customers = customers.only("organization_id", *matching.IDENTITY_ATTRIBUTES)
    while True:
        batch = list(customers.filter(pk__gt=last_id).order_by("pk")[:2000])
        if not batch:
            return done
        store(batch, region=organization.phone_region, noted=not rebuild)
        done += len(batch)
        last_id = batch[-1].pk


def candidates(
    customer: Customer, organization: Organization, *, threshold: float = matching.LIST_THRESHOLD
) -> list[matching.Match]:
    """The organization's customers that may be `customer` (saved or not), strongest first."""
    region = organization.phone_region
    wanted = matching.signals(customer, region)
    if not wanted:
        return []
    ids = _candidate_ids(organization.pk, wanted, customer.pk)
    ids.discard(customer.pk)
    if not ids:
        return []
    found = Customer.objects.filter(organization=organization, pk__in=ids)
    matches = [matching.compare(customer, other, region) for other in found]
    matches = [match for match in matches if match.score >= threshold]
    matches.sort(key=lambda match: (-match.score, match.customer.pk))
    return matches[:CANDIDATES_MAX]


def _candidate_ids(
    organization_id: int, wanted: set[tuple[str, str]], exclude_id: int | None
) -> set[int]:
    """Ids of the organization's customers sharing one of the `wanted` signals, in one
    statement; on PostgreSQL also those whose name key is trigram-similar (pg_trgm's `%`,
    served by the partial index) to one of `wanted`'s. The trigram index holds every
    organization's name keys (the organization is checked on the rows it finds); btree_gin could
    put the organization in it, at the price of another extension."""
    alias = router.db_for_read(CustomerSignal)
    connection = connections[alias]
    if connection.vendor != "postgresql":
        same = Q()
        for kind, value in wanted:
            same |= Q(kind=kind, value=value)
        return set(
            CustomerSignal.objects.using(alias)
            .filter(same, organization_id=organization_id)
            .exclude(customer_id=exclude_id)
            .values_list("customer_id", flat=True)[:CANDIDATES_MAX]
        )
    # One branch per kind (its values an index condition: organization, kind, value = ANY), and
    # one per name key for the trigram index (`%` finds similarity 0.3 and up; the second test
    # keeps the close). Branches, not one OR: an OR tempts the planner into walking the whole
    # organization's signals in customer order, hoping to meet 50 matches early.
    by_kind: dict[str, list[str]] = {}
    for kind, value in sorted(wanted):
        by_kind.setdefault(kind, []).append(value)
    branch = f"(SELECT customer_id FROM {_SIGNALS} WHERE organization_id = %s AND "  # noqa: S608
    branches, params = [], []
    for kind, values in by_kind.items():
        branches.append(f"{branch}kind = %s AND value = ANY(%s::varchar[]) LIMIT %s)")
        params += [organization_id, kind, values, CANDIDATES_MAX + 1]
    for name in by_kind.get("name", []):
        branches.append(
            f"{branch}kind = 'name' AND value %% %s AND similarity(value, %s) >= %s LIMIT %s)"
        )
        params += [organization_id, name, name, TRIGRAM_SIMILARITY, CANDIDATES_MAX + 1]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(branches), params)
        found = {row[0] for row in cursor.fetchall()} - {exclude_id}
        return set(sorted(found)[:CANDIDATES_MAX])


def _score_sql() -> str:
    factors = " * ".join(
        f"(1 - {weight} * MAX(CASE WHEN g.kind = '{kind}' THEN 1 ELSE 0 END))"
        for kind, weight in matching.WEIGHTS.items()
    )
    return f"ROUND(CAST(1 - {factors} AS numeric), 3)"


_SCORED = (
    f"scored AS (SELECT first_id, second_id, {_score_sql()} AS score "  # noqa: S608
    "FROM g GROUP BY first_id, second_id) "
)

# The organization's values shared by 2 to GROUP_MAX customers, the pairs within each, and a
# score per pair; names from the model, every value a parameter. On PostgreSQL one pass over the
# organization's signals in the match index's order gathers each value's customers into an array
# whose pairs are its own; the portable form joins the signals with themselves twice more.
_PAIRS = {
    "postgresql": (
        f"WITH shared AS (SELECT kind, array_agg(customer_id) AS ids FROM {_SIGNALS} "  # noqa: S608
        "WHERE organization_id = %s GROUP BY kind, value HAVING COUNT(*) BETWEEN 2 AND %s), "
        "g AS (SELECT s.kind, x AS first_id, y AS second_id "
        "FROM shared s, unnest(s.ids) AS x, unnest(s.ids) AS y WHERE y > x), "
        f"{_SCORED}"
    ),
    "joined": (
        f"WITH shared AS (SELECT kind, value FROM {_SIGNALS} WHERE organization_id = %s "  # noqa: S608
        "GROUP BY kind, value HAVING COUNT(*) BETWEEN 2 AND %s), "
        "g AS (SELECT a.kind, a.customer_id AS first_id, b.customer_id AS second_id "
        f"FROM shared s JOIN {_SIGNALS} a ON a.organization_id = %s AND a.kind = s.kind "
        "AND a.value = s.value "
        f"JOIN {_SIGNALS} b ON b.organization_id = %s AND b.kind = s.kind AND b.value = s.value "
        "AND b.customer_id > a.customer_id), "
        f"{_SCORED}"
    ),
}


def _pairs_query(connection, organization_id: int) -> tuple[str, list]:
    """The full report's common table expressions for this database, and their parameters."""
    if connection.vendor == "postgresql":
        return _PAIRS["postgresql"], [organization_id, GROUP_MAX]
    return _PAIRS["joined"], [organization_id, GROUP_MAX, organization_id, organization_id]


def computed(organization: Organization) -> list[tuple[int, int, Decimal]]:
    """The organization's pairs computed from its signals, as `catch_up` keeps them: (first id,
    second id, score), strongest first (ties by ids)."""
    connection = connections[router.db_for_read(CustomerSignal)]
    query, params = _pairs_query(connection, organization.pk)
    with connection.cursor() as cursor:
        cursor.execute(
            f"{query} SELECT first_id, second_id, score FROM scored "  # noqa: S608
            "WHERE score >= %s ORDER BY score DESC, first_id, second_id",
            [*params, matching.LIST_THRESHOLD],
        )
        # SQLite answers the rounded score as a float.
        return [(first, second, _score(score)) for first, second, score in cursor]


def _score(score: float | Decimal) -> Decimal:
    return Decimal(str(score)).quantize(_SCORE_PLACES)


def catch_up(organization_id: int) -> None:
    """Bring the organization's stored pairs up to date with its signal changes (the module's
    docstring says how), and delete those changes. Nothing to do costs one indexed read."""
    alias = router.db_for_write(CustomerDuplicatePair)
    changes = CustomerSignalChange.objects.using(alias).filter(organization_id=organization_id)
    if not changes.exists():
        return
    with transaction.atomic(using=alias):
        events.reserve(organization_id, 0)  # no write of the organization commits until we do
        rows = list(
            changes.order_by("pk").values_list("pk", "customer_id", "kind", "value")[
                : REBUILD_AT + 1
            ]
        )
        if not rows:  # another catch-up took them while this one waited for the counter
            return
        if len(rows) > REBUILD_AT or any(customer_id is None for _, customer_id, _, _ in rows):
            _rebuild(alias, organization_id)
            changes.delete()  # none can commit while the counter is held: all were seen
        else:
            _repair(alias, organization_id, [row[1:] for row in rows])
            changes.filter(pk__lte=rows[-1][0]).delete()


def catch_up_all() -> int:
    """`catch_up` every organization with changes waiting; answers how many there were. Run by
    the hourly housekeeping (`purge_expired`, and the worker's purge job), so that the changes of
    an organization whose report nobody opens do not pile up."""
    waiting = list(
        CustomerSignalChange.objects.values_list("organization_id", flat=True)
        .distinct()
        .order_by("organization_id")
    )
    for organization_id in waiting:
        catch_up(organization_id)
    return len(waiting)


def _rebuild(alias: str, organization_id: int) -> None:
    connection = connections[alias]
    CustomerDuplicatePair.objects.using(alias).filter(organization_id=organization_id).delete()
    query, params = _pairs_query(connection, organization_id)
    with connection.cursor() as cursor:
        cursor.execute(
            f"{query} INSERT INTO {_PAIRS_TABLE} (organization_id, first_id, second_id, score) "  # noqa: S608
            "SELECT %s, first_id, second_id, score FROM scored WHERE score >= %s",
            [*params, organization_id, matching.LIST_THRESHOLD],
        )


def _repair(alias: str, organization_id: int, rows: list[tuple[int, str, str]]) -> None:
    """Recompute the pairs of the customers the changes `rows` (customer id, kind, value) touch:
    their own, and those of every holder of a changed value whose holders may have crossed
    GROUP_MAX (each of the value's `n` changes moved its count by at most one)."""
    touched: dict[tuple[str, str], set[int]] = defaultdict(set)
    for customer_id, kind, value in rows:
        touched[(kind, value)].add(customer_id)
    affected = {customer_id for customer_id, _, _ in rows}
    # A value's count moved by at most its number of changes `n`: it may have crossed GROUP_MAX
    # only if it is now within `n` of it. One past that bound tells the rest apart.
    limits = {value: GROUP_MAX + len(ids) + 1 for value, ids in touched.items()}
    for value, holders in _holders(alias, organization_id, limits):
        n = len(touched[value])
        if GROUP_MAX - n < len(holders) <= GROUP_MAX + n:
            affected.update(holders)
    affected_ids = sorted(affected)
    shared: dict[tuple[int, int], set[str]] = defaultdict(set)
    for (kind, _), holders in _groups_of(alias, organization_id, affected_ids):
        if not 2 <= len(holders) <= GROUP_MAX:
            continue
        for customer_id in holders:
            if customer_id in affected:
                for other_id in holders:
                    if other_id != customer_id:
                        shared[min(customer_id, other_id), max(customer_id, other_id)].add(kind)
    pairs = CustomerDuplicatePair.objects.using(alias).filter(organization_id=organization_id)
    for start in range(0, len(affected_ids), _BATCH):
        batch = affected_ids[start : start + _BATCH]
        pairs.filter(Q(first_id__in=batch) | Q(second_id__in=batch)).delete()
    fresh = []
    for (first_id, second_id), kinds in sorted(shared.items()):
        score = matching.combined(matching.WEIGHTS[kind] for kind in sorted(kinds))
        if score >= matching.LIST_THRESHOLD:
            fresh.append(
                CustomerDuplicatePair(
                    organization_id=organization_id,
                    first_id=first_id,
                    second_id=second_id,
                    score=_score(score),
                )
            )
    CustomerDuplicatePair.objects.using(alias).bulk_create(fresh, batch_size=_BATCH)


def _holders(
    alias: str, organization_id: int, limits: dict[tuple[str, str], int]
) -> list[tuple[tuple[str, str], list[int]]]:
    """Each signal value of `limits` with its first holders, in id order, at most its limit of
    them: enough to tell a group from a crowd without reading a crowd (a common name key is held
    by thousands). One statement per _VALUES values, each value an index range of its own."""
    connection = connections[alias]
    branch = (
        f"SELECT * FROM (SELECT kind, value, customer_id FROM {_SIGNALS} "  # noqa: S608
        "WHERE organization_id = %s AND kind = %s AND value = %s ORDER BY customer_id LIMIT %s) "
        "AS holders"
    )
    found: dict[tuple[str, str], list[int]] = {}
    items = sorted(limits.items())
    for start in range(0, len(items), _VALUES):
        batch = items[start : start + _VALUES]
        params = [
            value for (kind, text), limit in batch for value in (organization_id, kind, text, limit)
        ]
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join([branch] * len(batch)), params)
            for kind, value, customer_id in cursor.fetchall():
                found.setdefault((kind, value), []).append(customer_id)
    return list(found.items())


def _groups_of(alias: str, organization_id: int, customer_ids: list[int]):
    """`_holders` of every signal value the organization's `customer_ids` hold, up to one past
    GROUP_MAX."""
    values = set()
    signals = CustomerSignal.objects.using(alias).filter(organization_id=organization_id)
    for start in range(0, len(customer_ids), _BATCH):
        batch = customer_ids[start : start + _BATCH]
        values.update(signals.filter(customer_id__in=batch).values_list("kind", "value"))
    return _holders(alias, organization_id, dict.fromkeys(values, GROUP_MAX + 1))


@dataclass(frozen=True)
class PairPage:
    pairs: list[tuple[Customer, Customer, matching.Match]]
    total: int


def pair_ids(organization: Organization) -> list[tuple[int, int]]:
    """All the organization's likely duplicate pairs as (first id, second id), strongest first
    (ties by ids), after `catch_up`."""
    catch_up(organization.pk)
    return list(_stored(organization))


def _stored(organization: Organization):
    return (
        CustomerDuplicatePair.objects.filter(organization=organization)
        .order_by("-score", "first_id", "second_id")
        .values_list("first_id", "second_id")
    )


def pairs(organization: Organization, *, page: int, page_size: int) -> PairPage:
    """The organization's likely duplicate pairs, strongest first (ties by ids), one page."""
    offset = (page - 1) * page_size
    catch_up(organization.pk)
    # Far past any last page (and past what OFFSET takes): no rows, only the total.
    rows = (
        list(_stored(organization)[offset : offset + page_size])
        if offset <= PAGE_OFFSET_MAX
        else []
    )
    total = CustomerDuplicatePair.objects.filter(organization=organization).count()
    customers = Customer.objects.filter(organization=organization).in_bulk(
        {pk for row in rows for pk in row}
    )
    found = []
    for first_id, second_id in rows:
        first, second = customers.get(first_id), customers.get(second_id)
        if first is not None and second is not None:
            match = matching.compare(first, second, organization.phone_region, fuzzy=False)
            found.append((first, second, match))
    return PairPage(pairs=found, total=total)


@dataclass(frozen=True)
class NewDuplicate:
    """A customer an import created that strongly matches another: one created by the same
    import (an earlier row of the file) or one already in the book."""

    customer_id: int
    other_id: int
    in_file: bool
    score: float


def among_new(organization: Organization, new_ids: list[int]) -> list[NewDuplicate]:
    """For each of `new_ids` (customers just created, their signals stored) its strongest match
    at STRONG_THRESHOLD or above: an earlier new customer, or one of the book's. One statement
    per batch, through the match index."""
    found = []
    new = set(new_ids)
    for start in range(0, len(new_ids), 500):
        batch = new_ids[start : start + 500]
        rows = (
            CustomerSignal.objects.filter(
                organization=organization,
                customer_id__in=batch,
            )
            .values_list("customer_id", "kind", "value")
            .order_by()
        )
        wanted: dict[tuple[str, str], set[int]] = {}
        for customer_id, kind, value in rows:
            wanted.setdefault((kind, value), set()).add(customer_id)
        if not wanted:
            continue
        kinds: dict[tuple[int, int], set[str]] = {}
        values_by_kind: dict[str, list[str]] = {}
        for kind, value in wanted:
            values_by_kind.setdefault(kind, []).append(value)
        for kind, values in values_by_kind.items():
            others = CustomerSignal.objects.filter(
                organization=organization, kind=kind, value__in=values
            ).values_list("customer_id", "value")
            for other_id, value in others:
                for customer_id in wanted[(kind, value)]:
                    # An earlier row of the file, or the book; never itself or a later row.
                    if other_id == customer_id or (other_id in new and other_id > customer_id):
                        continue
                    kinds.setdefault((customer_id, other_id), set()).add(kind)
        best: dict[int, NewDuplicate] = {}
        for (customer_id, other_id), shared in kinds.items():
            score = matching.combined(matching.WEIGHTS[kind] for kind in shared)
            if score < matching.STRONG_THRESHOLD:
                continue
            current = best.get(customer_id)
            if current is None or (score, -other_id) > (current.score, -current.other_id):
                best[customer_id] = NewDuplicate(customer_id, other_id, other_id in new, score)
        found += sorted(best.values(), key=lambda duplicate: duplicate.customer_id)
    return found
