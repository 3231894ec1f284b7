"""The customer search: the per-column rule, and the one trigram index that finds it."""

import pytest
from django.db import connection

from common import citus
from customers.models import Customer
from customers.search import search
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigram index exists on PostgreSQL only"
)


def test_a_keyword_spanning_two_columns_matches_no_customer(tenant):
    """The search document joins the columns with spaces; the exact rule is still per column."""
    CustomerFactory(
        organization=tenant.organization,
        display_name="Acme",
        first_name="Jane",
        last_name="Doe",
        code="AC-1",
    )
    organization = tenant.organization

    def found(keyword):
        customers = search(Customer.objects.filter(organization=organization), keyword)
        return sorted(customers.values_list("display_name", flat=True))

    assert found("acme jane") == []
    assert found("doe ") == []
    assert found("jane") == ["Acme"]
    assert found("ac-1") == ["Acme"]


def test_a_customer_without_a_code_is_still_found_by_its_other_columns(tenant):
    # COALESCE(code, ''): a NULL code must not make the whole document NULL.
    CustomerFactory(organization=tenant.organization, display_name="Codeless", code=None)

    assert list(search(Customer.objects.filter(organization=tenant.organization), "codeless")) == [
        Customer.objects.get(display_name="Codeless")
    ]


@postgresql_only
def test_the_search_index_is_the_only_trigram_index():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'customers_customer' "
            "AND indexdef LIKE '%%gin_trgm_ops%%'"
        )
        assert [name for (name,) in cursor.fetchall()] == ["customer_search_trgm"]


@postgresql_only
def test_the_search_is_answered_from_the_trigram_index(tenant):
    """The migration's frozen SQL and the expression Django compiles must stay the same: if they
    drift apart, PostgreSQL can no longer use the index and has to read every row."""
    CustomerFactory.create_batch(20, organization=tenant.organization)
    sql, params = search(Customer.objects.all(), "johnson12").query.sql_with_params()
    with connection.cursor() as cursor:
        if citus.installed(connection):  # the shard's plan is the one to read: SET it there too
            cursor.execute("SET LOCAL citus.propagate_set_commands = 'local'")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(line for (line,) in cursor.fetchall())

    assert "Bitmap Index Scan on customer_search_trgm" in plan, plan
