"""Exit 0 if this server can deliver webhooks (its database is PostgreSQL), else say why, exit 1.

`scripts/run` (make run) asks it before starting the worker.
"""

from django.core.management.base import BaseCommand, CommandError

from webhooks import services


class Command(BaseCommand):
    help = "Whether webhooks can be delivered here; exit status 1 if not, saying why."
    requires_system_checks = []

    def handle(self, *args, **options):
        if not services.available():
            raise CommandError(
                "Webhook delivery needs PostgreSQL (set DATABASE_URL=postgres://…); on SQLite "
                "the API and the event feed run without it, and no worker starts."
            )
        self.stdout.write("Webhooks are delivered by `manage.py procrastinate worker`.")
