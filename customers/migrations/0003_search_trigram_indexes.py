"""Trigram indexes for the customer search, on PostgreSQL only (SQLite needs none and has none).

The list's `searchKeyword` is an `icontains` on each searched column, which Django compiles on
PostgreSQL to `UPPER("col"::text) LIKE UPPER('%kw%')`; each index is on exactly that expression,
so the planner can answer the search with a bitmap OR of these indexes.
"""

from django.db import migrations

SEARCHED_COLUMNS = (
    "display_name",
    "first_name",
    "last_name",
    "company_name",
    "email",
    "work_phone",
    "personal_phone",
    "code",
)


def _create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in SEARCHED_COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS customer_trgm_{column} ON customers_customer "
            f"USING gin ((UPPER({column}::text)) gin_trgm_ops)"
        )


def _drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in SEARCHED_COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS customer_trgm_{column}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_list_indexes_and_idempotency_keys")]

    operations = [migrations.RunPython(_create, _drop, elidable=False)]
