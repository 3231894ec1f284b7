from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from cluster import citus


class Command(BaseCommand):
    help = (
        "Lay the schema out over a Citus cluster: the tables that grow with the book distributed "
        "by organization, the small shared ones as reference tables (cluster/citus.py). Run after "
        "migrate, on a database with the Citus extension and its workers registered; running it "
        "again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, database, **options):
        connection = connections[database]
        if not citus.installed(connection):
            raise CommandError(
                "This database has no Citus extension. On every node: CREATE EXTENSION citus; "
                "then register the workers (docs/scaling.md)."
            )
        log = self.stdout.write if options["verbosity"] > 1 else (lambda line: None)
        try:
            done = citus.distribute(connection, log=log)
        except RuntimeError as error:
            raise CommandError(str(error)) from error
        if done:
            self.stdout.write(f"Placed {len(done)} tables on the cluster.")
        else:
            self.stdout.write("The schema is already laid out on the cluster: nothing to do.")
