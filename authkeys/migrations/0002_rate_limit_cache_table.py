from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    # The rate-limit counters live in Django's cache; with the database cache (the default when
    # REDIS_URL is unset) its table must exist. Does nothing for other caches, or if it exists.
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("authkeys", "0001_initial")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
