"""The stored duplicate report (customers/duplicates.py): the pairs, and the signal changes not
yet reflected in them. Every organization with signals gets a change without a customer, which
asks its first report (or `refresh_duplicate_signals`) to build its pairs."""

import django.db.models.deletion
from django.db import migrations, models


def _ask_for_pairs(apps, schema_editor):
    CustomerSignal = apps.get_model("customers", "CustomerSignal")
    CustomerSignalChange = apps.get_model("customers", "CustomerSignalChange")
    organizations = CustomerSignal.objects.values_list("organization_id", flat=True).distinct()
    CustomerSignalChange.objects.bulk_create(
        CustomerSignalChange(organization_id=pk, customer_id=None, kind="", value="")
        for pk in organizations.order_by("organization_id")
    )


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0012_idempotency_key_possible_duplicates'),
        ('organizations', '0004_duplicate_settings'),
    ]

    operations = [
        migrations.CreateModel(
            name='CustomerDuplicatePair',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('first_id', models.BigIntegerField()),
                ('second_id', models.BigIntegerField()),
                ('score', models.DecimalField(decimal_places=3, max_digits=4)),
                ('organization', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='organizations.organization')),
            ],
            options={
                'indexes': [models.Index(fields=['organization', '-score', 'first_id', 'second_id'], name='customerpair_strongest'), models.Index(fields=['organization', 'second_id'], name='customerpair_second')],
                'constraints': [models.UniqueConstraint(fields=('organization', 'first_id', 'second_id'), name='customerduplicatepair_unique')],
            },
        ),
        migrations.CreateModel(
            name='CustomerSignalChange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('customer_id', models.BigIntegerField(null=True)),
                ('kind', models.CharField(max_length=8)),
                ('value', models.CharField(max_length=255)),
                ('organization', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='organizations.organization')),
            ],
            options={
                'indexes': [models.Index(fields=['organization', 'id'], name='customersignalchange_next')],
            },
        ),
        migrations.RunPython(_ask_for_pairs, migrations.RunPython.noop, elidable=False),
    ]
