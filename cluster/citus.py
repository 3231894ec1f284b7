"""How Counterpart's schema lies on a Citus cluster, and the one step that lays it out.

Tables that grow with the book are *distributed* by `organization_id` and co-located: one
organization's customers, history, events, signals, merges, uploads, idempotency keys and
webhook deliveries live on the same shard, so a statement that names the organization goes to one
worker (tests/reliability/test_routed_queries.py holds every tenant route to that). Small tables
that every query joins or finds by something other than the organization are *reference* tables,
copied whole to every node: organizations, users, memberships (found by user), branches, and API
keys (found by their digest alone, before the organization is known). Distributing organizations
instead is refused by Citus, because users, which reference no organization, could then not be a
reference table. Everything else (sessions, Django's permissions and admin log, token blacklist,
rate-limit counters, procrastinate's job queue) stays on the coordinator, which serves every
request anyway.

The step is a management command (`manage.py distribute_tables`), not a migration: it runs only
where the Citus extension and its workers are, when the operator chooses (it moves every row of
an existing database to the workers), and plain PostgreSQL and SQLite never see it. What it
changes, and why a migration of the Django models cannot say it:

- Primary keys of distributed tables widen from `(id)` to `(organization_id, id)`: a shard can
  only enforce uniqueness over keys that include the distribution column. Django keeps `id` as
  the model's primary key: ids still come from one sequence, so `id` alone is still unique, and
  the API, the admin and every foreign key name a customer by it. (Django 5.2's
  CompositePrimaryKey would say the same to the database, but the admin does not support such
  models and no foreign key can point at one.) The models' other unique constraints already
  include the organization.
- Foreign keys between two distributed tables become `(organization_id, x_id)` →
  `(organization_id, id)`, which a shard can check locally.
- Identity columns become plain sequences, owned by their column. Citus refuses to distribute a
  table with an identity column once it has made it a "Citus local" table (which happens as soon
  as a table it references becomes a reference table), and forbids changing the shard count of a
  table with one later. Django inserts through the column's default either way.

The order matters: sequences first, then the foreign keys are dropped, the keys widened, the
tables distributed, the reference tables made, and the foreign keys put back; all in one
transaction, so a failure leaves the database as it was.
"""

from dataclasses import dataclass

from django.apps import apps
from django.db import transaction

from authkeys.models import ApiKey
from common.citus import installed
from customers.models import (
    Customer,
    CustomerChange,
    CustomerDuplicatePair,
    CustomerIdempotencyKey,
    CustomerMerge,
    CustomerSignal,
    CustomerSignalChange,
    EventCounter,
    ImportUpload,
    ImportUploadPart,
)
from organizations.models import Branch, Membership, Organization, User
from webhooks.models import WebhookDelivery, WebhookEndpoint

DISTRIBUTION_COLUMN = "organization_id"

# Co-located with the first, in this order.
DISTRIBUTED = (
    Customer,
    CustomerChange,
    CustomerDuplicatePair,
    CustomerIdempotencyKey,
    CustomerMerge,
    CustomerSignal,
    CustomerSignalChange,
    EventCounter,
    ImportUpload,
    ImportUploadPart,
    WebhookEndpoint,
    WebhookDelivery,
)
# Referenced ones first.
REFERENCE = (Organization, User, Branch, Membership, ApiKey)


def tables(models) -> list[str]:
    return [model._meta.db_table for model in models]


def placed(connection) -> dict[str, str]:
    """The tables Citus already knows: name → 'distributed', 'reference' or 'local'."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT logicalrelid::regclass::text, partmethod, repmodel FROM pg_dist_partition"
        )
        kinds = {"h": "distributed", "n": "reference"}
        return {
            name.strip('"'): ("local" if method == "n" and model == "s" else kinds.get(method, ""))
            for name, method, model in cursor.fetchall()
        }


@dataclass(frozen=True)
class ForeignKey:
    table: str
    name: str
    definition: str
    columns: list[str]
    target: str


def _foreign_keys(cursor, touching: set[str]) -> list[ForeignKey]:
    cursor.execute(
        "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), "
        "ARRAY(SELECT attname FROM pg_attribute WHERE attrelid = c.conrelid "
        "AND attnum = ANY(c.conkey) ORDER BY attnum), c.confrelid::regclass::text "
        "FROM pg_constraint c "
        "WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace"
    )
    found = [ForeignKey(*row) for row in cursor.fetchall()]
    return [key for key in found if key.table in touching or key.target in touching]


def _identity_columns(cursor, table_names: list[str]) -> list[tuple[str, str, str]]:
    cursor.execute(
        "SELECT a.attrelid::regclass::text, a.attname, format_type(a.atttypid, a.atttypmod) "
        "FROM pg_attribute a WHERE a.attrelid = ANY(%s::regclass[]) AND a.attidentity <> '' "
        "AND NOT a.attisdropped",
        [table_names],
    )
    return cursor.fetchall()


def _managed_tables() -> list[str]:
    """Every table of an installed model (many-to-many tables included), the job queue's aside:
    procrastinate owns its schema and nothing of ours points at it."""
    return sorted(
        {
            model._meta.db_table
            for model in apps.get_models(include_auto_created=True)
            if model._meta.managed
            and not model._meta.proxy
            and model._meta.app_label != "procrastinate"
        }
    )


def distribute(connection, log=print) -> list[str]:
    """Lay the schema out over the cluster; the tables it placed (none when already laid out)."""
    if not installed(connection):
        raise RuntimeError(
            "This database has no Citus extension: CREATE EXTENSION citus on every node first "
            "(scripts/citus-cluster does it for a local cluster)."
        )
    distributed, reference = tables(DISTRIBUTED), tables(REFERENCE)
    already = placed(connection)
    todo = [name for name in distributed + reference if name not in already]
    if not todo:
        return []
    if any(already.get(name) not in (None, "local") for name in distributed + reference) and set(
        todo
    ) != set(distributed + reference):
        raise RuntimeError(
            f"Only some of the tables are placed ({sorted(set(already) - set(todo))}): this "
            "command lays out a whole schema, not part of one."
        )
    quote = connection.ops.quote_name
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        # DDL and distribution in one transaction, over one connection per worker.
        cursor.execute("SET LOCAL citus.multi_shard_modify_mode TO 'sequential'")

        for table, column, type_name in _identity_columns(cursor, _managed_tables()):
            sequence = f"{table}_{column}_seq"
            log(f"  {table}.{column}: identity → sequence")
            cursor.execute(f"ALTER TABLE {quote(table)} ALTER COLUMN {quote(column)} DROP IDENTITY")
            cursor.execute(
                f"CREATE SEQUENCE {quote(sequence)} AS {type_name} "
                f"OWNED BY {quote(table)}.{quote(column)}"
            )
            cursor.execute(
                f"SELECT setval(%s::regclass, COALESCE(MAX({quote(column)}), 0) + 1, false) "  # noqa: S608
                f"FROM {quote(table)}",
                [quote(sequence)],
            )
            # DDL takes no parameters; the name is a table's and a column's, quoted.
            cursor.execute(
                f"ALTER TABLE {quote(table)} ALTER COLUMN {quote(column)} "
                f"SET DEFAULT nextval('{quote(sequence)}'::regclass)"
            )

        foreign_keys = _foreign_keys(cursor, set(distributed + reference))
        for key in foreign_keys:
            cursor.execute(f"ALTER TABLE {quote(key.table)} DROP CONSTRAINT {quote(key.name)}")

        for model in DISTRIBUTED:
            table = model._meta.db_table
            pk = model._meta.pk.column
            if pk == DISTRIBUTION_COLUMN:
                continue
            cursor.execute(
                "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p'",
                [table],
            )
            (name,) = cursor.fetchone()
            cursor.execute(
                f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}, "
                f"ADD CONSTRAINT {quote(name)} PRIMARY KEY ({DISTRIBUTION_COLUMN}, {quote(pk)})"
            )

        first = distributed[0]
        for table in distributed:
            log(f"  {table}: distributed by {DISTRIBUTION_COLUMN}")
            cursor.execute(
                "SELECT create_distributed_table(%s, %s, colocate_with => %s)",
                [table, DISTRIBUTION_COLUMN, "default" if table == first else first],
            )
        for table in reference:
            log(f"  {table}: reference table")
            cursor.execute("SELECT create_reference_table(%s)", [table])
        for table in distributed + reference:
            # The rows are on the shards now; the coordinator's own copy goes.
            cursor.execute("SELECT truncate_local_data_after_distributing_table(%s)", [table])

        for key in foreign_keys:
            definition = key.definition
            if key.table in distributed and key.target in distributed:
                # A shard checks the reference locally: both sides name the organization.
                (column,) = key.columns
                definition = definition.replace(
                    f"FOREIGN KEY ({column}) REFERENCES {key.target}(id)",
                    f"FOREIGN KEY ({DISTRIBUTION_COLUMN}, {column}) "
                    f"REFERENCES {key.target}({DISTRIBUTION_COLUMN}, id)",
                )
            cursor.execute(
                f"ALTER TABLE {quote(key.table)} ADD CONSTRAINT {quote(key.name)} {definition}"
            )
    return todo
