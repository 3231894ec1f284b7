"""Housekeeping to run from cron (hourly is plenty): delete what has outlived its use.

- Idempotency-Key answers older than their 24 hours (customers.idempotency.KEY_LIFETIME);
- import uploads older than their day (customers.importing.uploads.LIFETIME), from the back
  office's import and the HTTP import flow;
- the snapshots of events older than EVENT_RETENTION_DAYS (customers.events; the history rows
  stay, and the feed no longer serves them);
- expired refresh tokens in Simple JWT's outstanding and blacklist tables (its own
  `flushexpiredtokens`);
- the identity-signal changes the duplicate report has not caught up with yet, turned into its
  pairs (customers.duplicates.catch_up_all).
Nothing here is needed for correctness: each is already ignored once expired. It keeps the tables
from growing without end.
"""

from django.core.management import call_command
from django.core.management.base import BaseCommand

from customers import duplicates, events, idempotency
from customers.importing import uploads as import_uploads


class Command(BaseCommand):
    help = (
        "Delete expired idempotency keys, import uploads, event snapshots and refresh tokens; "
        "catch up the duplicate report."
    )

    def handle(self, *args, **options):
        keys = idempotency.purge_expired()
        uploads = import_uploads.purge_expired()
        snapshots = events.purge_expired()
        call_command("flushexpiredtokens", verbosity=0)
        caught_up = duplicates.catch_up_all()
        self.stdout.write(
            f"Deleted {keys} expired idempotency keys and {uploads} expired import uploads; "
            f"dropped the snapshots of {snapshots} expired events; flushed expired refresh tokens; "
            f"brought the duplicate pairs of {caught_up} organizations up to date."
        )
