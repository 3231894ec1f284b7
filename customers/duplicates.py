"""Possible duplicates, found through the stored identity signals (customers/matching.py).

The services keep each customer's CustomerSignal rows in step with the customer, in the write's
own transaction (`store`, `forget`). Candidates are found by equal signals through the
`customersignal_match` index (organization, kind, value), never by comparing every customer with
every other; on PostgreSQL the name keys are also searched by trigram similarity (pg_trgm's `%`
through the partial index of migration 0009), so a misspelt name is found too. SQLite has no
trigram index: there a name must reduce to the same name key to be a candidate (`Acme Corp.` and
`ACME Corporation` still do). Every candidate is then scored in Python by matching.compare, the
same on both databases.

The organization-wide report (`pairs`) is one statement: the signal values held by 2 to
GROUP_MAX customers, the pairs within each, and a score per pair from the kinds they share, in the
same weights as matching.compare; strongest first. A value shared by more than GROUP_MAX
customers (a switchboard number, `info@`) says nothing about any one pair and is skipped. It
reads every signal of the organization (one pass of the match index on PostgreSQL), so its time
grows with the book (docs/performance.md).
"""

from dataclasses import dataclass

from django.db import connections, router
from django.db.models import Q

from organizations.models import Organization

from . import matching
from .models import Customer, CustomerSignal

CANDIDATES_MAX = 50
PAGE_OFFSET_MAX = 2**40
TRIGRAM_SIMILARITY = 0.5
GROUP_MAX = 20
_SIGNALS = CustomerSignal._meta.db_table


def store(customers: list[Customer], *, region: str, replace: bool = True) -> None:
    """Write the signals of `customers` (of one organization), replacing their old ones."""
    if not customers:
        return
    organization_id = customers[0].organization_id
    if replace:
        forget(organization_id, [customer.pk for customer in customers])
    CustomerSignal.objects.bulk_create(
        CustomerSignal(
            organization_id=organization_id, customer_id=customer.pk, kind=kind, value=value
        )
        for customer in customers
        for kind, value in sorted(matching.signals(customer, region))
    )


def forget(organization_id: int, customer_ids: list[int]) -> None:
    CustomerSignal.objects.filter(
        organization_id=organization_id, customer_id__in=customer_ids
    ).delete()


def refresh(organization: Organization, customers) -> int:
    """Recompute the signals of `customers` (a queryset of the organization's), in batches;
    for writes that bypass the ORM (the import's set-wise SQL) and for the back-fill."""
    done = 0
    last_id = 0
    # Only what the signals are made of: an import's 64 KB notes stay in the database.
    customers = customers.only("organization_id", *matching.IDENTITY_ATTRIBUTES)
    while True:
        batch = list(customers.filter(pk__gt=last_id).order_by("pk")[:2000])
        if not batch:
            return done
        store(batch, region=organization.phone_region)
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
    """The report's common table expressions for this database, and their parameters."""
    if connection.vendor == "postgresql":
        return _PAIRS["postgresql"], [organization_id, GROUP_MAX]
    return _PAIRS["joined"], [organization_id, GROUP_MAX, organization_id, organization_id]


@dataclass(frozen=True)
class PairPage:
    pairs: list[tuple[Customer, Customer, matching.Match]]
    total: int


def pair_ids(
    organization: Organization, *, limit: int | None = None, offset: int = 0
) -> list[tuple[int, int, int]]:
    """The organization's likely duplicate pairs as (first id, second id, total), strongest
    first (ties by ids): `limit` of them from `offset`, or all."""
    connection = connections[router.db_for_read(CustomerSignal)]
    pairs, params = _pairs_query(connection, organization.pk)
    params.append(matching.LIST_THRESHOLD)
    window = ""
    if limit is not None:
        window = " LIMIT %s OFFSET %s"
        params += [limit, offset]
    with connection.cursor() as cursor:
        cursor.execute(
            f"{pairs} SELECT first_id, second_id, COUNT(*) OVER () FROM scored "  # noqa: S608
            f"WHERE score >= %s ORDER BY score DESC, first_id, second_id{window}",
            params,
        )
        return cursor.fetchall()


def pairs(organization: Organization, *, page: int, page_size: int) -> PairPage:
    """The organization's likely duplicate pairs, strongest first (ties by ids), one page."""
    offset = (page - 1) * page_size
    # Far past any last page (and past what OFFSET takes): no rows, only the total.
    page_rows = (
        pair_ids(organization, limit=page_size, offset=offset) if offset <= PAGE_OFFSET_MAX else []
    )
    if page_rows:
        total = page_rows[0][2]
    else:  # a page past the last asks for the total alone
        connection = connections[router.db_for_read(CustomerSignal)]
        query, params = _pairs_query(connection, organization.pk)
        with connection.cursor() as cursor:
            cursor.execute(
                f"{query} SELECT COUNT(*) FROM scored WHERE score >= %s",  # noqa: S608
                [*params, matching.LIST_THRESHOLD],
            )
            total = cursor.fetchone()[0]
    rows = [(first_id, second_id) for first_id, second_id, _ in page_rows]
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
