"""One trigram index for the customer search instead of eight (PostgreSQL only).

The search (customers/search.py) now asks for `UPPER(document) LIKE …` besides the per-column
rule, where the document is the searched columns joined by spaces; this index covers exactly
that expression (the SQL Django compiles for `SearchDocument` with `icontains`, frozen here;
tests/customers/test_search_index.py fails if the two drift apart). Each write then maintains one
GIN index instead of eight.

Built and dropped CONCURRENTLY, outside a transaction, so a deployment on a large table keeps
serving reads and writes while it runs.
"""

from django.db import migrations

OLD_COLUMNS = (
    "display_name",
    "first_name",
    "last_name",
    "company_name",
    "email",
    "work_phone",
    "personal_phone",
    "code",
)
DOCUMENT = (
    "\"display_name\" || ' ' || \"first_name\" || ' ' || \"last_name\" || ' ' || "
    "\"company_name\" || ' ' || \"email\" || ' ' || \"work_phone\" || ' ' || "
    "\"personal_phone\" || ' ' || COALESCE(\"code\", '')"
)
INDEX = "customer_search_trgm"


def _forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} ON customers_customer "
        f"USING gin (UPPER(({DOCUMENT})::text) gin_trgm_ops)"
    )
    for column in OLD_COLUMNS:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS customer_trgm_{column}")


def _backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in OLD_COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS customer_trgm_{column} "
            f"ON customers_customer USING gin ((UPPER({column}::text)) gin_trgm_ops)"
        )
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("customers", "0004_drop_redundant_organization_indexes")]

    operations = [migrations.RunPython(_forward, _backward, elidable=False)]
