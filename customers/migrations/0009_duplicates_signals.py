"""Identity signals for duplicate detection (customers/matching.py, customers/duplicates.py).

The table, its indexes, on PostgreSQL a trigram index on the name keys (partial: names only), and
the signals of the customers that exist already, computed in batches.
"""

import django.db.models.deletion
from django.db import migrations, models

TRIGRAM_INDEX = "customersignal_name_trgm"
BATCH = 2000


def _trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {TRIGRAM_INDEX} ON customers_customersignal "
        "USING gin (value gin_trgm_ops) WHERE kind = 'name'"
    )


def _drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")


def _backfill(apps, schema_editor):
    from customers import matching  # the rules as they are when the migration runs

    Organization = apps.get_model("organizations", "Organization")
    Customer = apps.get_model("customers", "Customer")
    CustomerSignal = apps.get_model("customers", "CustomerSignal")
    for organization in Organization.objects.all():
        last_id = 0
        while batch := list(
            Customer.objects.filter(organization_id=organization.pk, pk__gt=last_id).order_by(
                "pk"
            )[:BATCH]
        ):
            CustomerSignal.objects.bulk_create(
                CustomerSignal(
                    organization_id=organization.pk, customer_id=c.pk, kind=kind, value=value
                )
                for c in batch
                for kind, value in sorted(matching.signals(c, organization.phone_region))
            )
            last_id = batch[-1].pk


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0008_import_upload_part_organization'),
        ('organizations', '0004_duplicate_settings'),
    ]

    operations = [
        migrations.CreateModel(
            name='CustomerSignal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('email', 'Email'), ('phone', 'Phone'), ('code', 'Code'), ('name', 'Name')], max_length=8)),
                ('value', models.CharField(max_length=255)),
                ('customer', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='signals', to='customers.customer')),
                ('organization', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='organizations.organization')),
            ],
            options={
                'indexes': [models.Index(fields=['organization', 'kind', 'value', 'customer'], name='customersignal_match')],
                'constraints': [models.UniqueConstraint(fields=('organization', 'customer', 'kind', 'value'), name='customersignal_unique')],
            },
        ),
        migrations.RunPython(_trigram_index, _drop_trigram_index, elidable=False),
        migrations.RunPython(_backfill, migrations.RunPython.noop, elidable=False),
    ]
