"""Counterpart on a Citus cluster: a coordinator and two workers (scripts/citus-cluster).

    scripts/citus-cluster start && scripts/citus-cluster reset test_counterpart
    DATABASE_URL=postgres://postgres@127.0.0.1:5433/counterpart pytest --reuse-db tests/citus

`--reuse-db` keeps the test database the script made on every node (Citus 12.1 does not make it
on the workers); tests/conftest.py lays the schema out over the cluster once migrated. The same
command runs the customer API, tenant matrix, import and lost-update tests there (.ci/run).
"""

import json
import re

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from cluster import citus
from customers.models import Customer, CustomerChange
from organizations.models import Organization
from tests.conftest import make_tenant
from tests.customers.importing.conftest import write_csv

# Autocommit, as the API runs: Citus refuses to EXPLAIN a distributed statement inside a
# transaction that has already run one on the coordinator's own copy of a reference table.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("on_a_cluster")]

WORKER_PORTS = {5434, 5435}
_STATEMENT = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b", re.IGNORECASE)


def test_the_tables_that_grow_with_the_book_are_distributed_by_organization_and_colocated():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT logicalrelid::regclass::text, partmethod, "
            "column_to_column_name(logicalrelid, partkey), colocationid FROM pg_dist_partition"
        )
        placed = {name.strip('"'): rest for name, *rest in cursor.fetchall()}

    distributed = [placed[table] for table in citus.tables(citus.DISTRIBUTED)]
    assert {(method, column) for method, column, _ in distributed} == {("h", "organization_id")}
    assert len({colocation for *_, colocation in distributed}) == 1
    assert {placed[table][0] for table in citus.tables(citus.REFERENCE)} == {"n"}


def test_laying_the_schema_out_again_changes_nothing(capsys):
    call_command("distribute_tables")

    assert "nothing to do" in capsys.readouterr().out


def explained(statements) -> list[tuple[str, dict]]:
    """Each statement's Citus plan (statements on coordinator-only tables have none), with its
    parameters in the text as the planner saw them at run time: Citus plans no EXPLAIN of a
    statement whose parameters come apart from it."""
    plans = []
    literal = psycopg.ClientCursor(connection.connection)
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {literal.mogrify(sql, params)}")
            plan = cursor.fetchone()[0]
            plan = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
            if "Distributed Query" in plan:
                plans.append((sql, plan["Distributed Query"]["Job"]))
    return plans


def recorded(call) -> list[tuple[str, list]]:
    statements = []

    def record(execute, sql, params, many, context):
        if _STATEMENT.match(sql) and not many:
            statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        response = call()
    assert response.status_code < 300, response.content[:300]
    return statements


def test_a_customer_get_put_list_page_create_and_duplicate_report_each_go_to_one_shard():
    tenant = make_tenant("Routed")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tenant.key}")
    url = f"/api/customers/{tenant.customer.pk}"
    body = {
        "customerType": "business",
        "displayName": "Routed Ltd",
        "currencyCode": "USD",
        "note": "routed",
    }
    api.get("/api/customers")  # the key's lastUsedAt, written once a minute, is not the point

    routes = {
        "GET": lambda: api.get(url),
        "PUT": lambda: api.put(url, body, format="json"),
        "list": lambda: api.get("/api/customers?page=1&page_size=12&search_keyword=routed"),
        "create": lambda: api.post("/api/customers", body, format="json"),
        # It catches up with the edit and the create first: their signals become pairs.
        "duplicate report": lambda: api.get("/api/customers/duplicates"),
    }
    for name, call in routes.items():
        jobs = explained(recorded(call))

        assert jobs, f"{name}: no statement reached a distributed table"
        spread = [(sql, job["Task Count"]) for sql, job in jobs if job["Task Count"] != 1]
        assert spread == [], f"{name} sent statements to several shards"
    # The customer and the one created under its new name are the report's one pair.
    assert api.get("/api/customers/duplicates").json()["pagination"]["total"] == 1


def per_shard(organizations) -> str:
    """The count of the organizations' customers in one shard, for run_command_on_shards (which
    puts the shard's name for %s)."""
    ids = ",".join(str(organization.pk) for organization in organizations)
    return f"SELECT count(*) FROM %s WHERE organization_id IN ({ids})"  # noqa: S608 (ids)


def test_customers_of_20_organizations_are_spread_over_both_workers():
    organizations = [make_tenant(f"Spread {number}").organization for number in range(24)]

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT o.id, n.nodeport FROM unnest(%s::bigint[]) AS o(id) "
            "JOIN pg_dist_placement p ON p.shardid = "
            "get_shard_id_for_distribution_column('customers_customer', o.id) "
            "JOIN pg_dist_node n ON n.groupid = p.groupid",
            [[organization.pk for organization in organizations]],
        )
        node_of = dict(cursor.fetchall())
        # Each worker holds its organizations' customers in its own shards.
        cursor.execute(
            "SELECT nodeport, SUM(result::bigint) FROM run_command_on_shards("
            "'customers_customer', %s) r JOIN citus_shards s ON s.shardid = r.shardid "
            "GROUP BY nodeport",
            [per_shard(organizations)],
        )
        customers_on = dict(cursor.fetchall())

    assert set(node_of.values()) == WORKER_PORTS
    assert {port: int(count) for port, count in customers_on.items() if count} == {
        port: sum(1 for node in node_of.values() if node == port) for port in WORKER_PORTS
    }


@pytest.fixture
def hundred_thousand_rows_the_last_bad(tmp_path):
    rows = [["customerType", "displayName", "code", "currencyCode"]]
    rows += [["business", f"Customer {n}", f"C{n}", "USD"] for n in range(99_999)]
    rows.append(["business", "Bad currency", "C-bad", "ZZZ"])
    return write_csv(tmp_path / "customers.csv", rows)


def test_a_100000_row_import_with_one_bad_row_writes_nothing_on_any_worker(
    hundred_thousand_rows_the_last_bad, run_import
):
    organization = make_tenant("Importing").organization
    before = set(Customer.objects.values_list("pk", "version"))

    run = run_import(hundred_thousand_rows_the_last_bad, organization)

    assert run.failed is not None
    assert "1 row(s) failed" in run.failed, run.failed
    assert set(Customer.objects.values_list("pk", "version")) == before
    assert not CustomerChange.objects.filter(organization=organization).exists()
    with connection.cursor() as cursor:  # asked of every shard on both workers, not the planner
        cursor.execute(
            "SELECT SUM(result::bigint) FROM run_command_on_shards('customers_customer', %s)",
            [per_shard([organization])],
        )
        assert cursor.fetchone()[0] == 1  # the tenant's own customer, made before the import


def test_the_admin_estimate_reads_the_shards_plans():
    from common.paginators import estimated_count

    tenant = make_tenant("Estimated")
    other = make_tenant("Other")

    assert estimated_count(Customer.objects.filter(organization=tenant.organization)) >= 1
    both = Customer.objects.filter(organization__in=[tenant.organization, other.organization])
    assert estimated_count(both) >= 1
    assert estimated_count(Organization.objects.all()) >= 2
