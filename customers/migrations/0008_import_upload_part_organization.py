import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Import upload parts name their organization, as every table that grows with the book, so
    that every statement on them names it too; parts already stored take their upload's."""

    dependencies = [
        ("customers", "0007_change_events"),
        ("organizations", "0002_response_casing"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="importuploadpart",
            name="import_upload_part_unique",
        ),
        migrations.AddField(
            model_name="importuploadpart",
            name="organization",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="organizations.organization",
            ),
        ),
        migrations.RunSQL(
            sql=(
                "UPDATE customers_importuploadpart SET organization_id = ("
                " SELECT organization_id FROM customers_importupload"
                " WHERE customers_importupload.id = customers_importuploadpart.upload_id)"
            ),
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.AlterField(
            model_name="importuploadpart",
            name="organization",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="organizations.organization",
            ),
        ),
        migrations.AlterField(
            model_name="importuploadpart",
            name="upload",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="parts",
                to="customers.importupload",
            ),
        ),
        migrations.AddConstraint(
            model_name="importuploadpart",
            constraint=models.UniqueConstraint(
                fields=("organization", "upload", "number"), name="import_upload_part_unique"
            ),
        ),
    ]
