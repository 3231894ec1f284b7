"""Housekeeping to run from cron (hourly is plenty): delete what has outlived its use.

- Idempotency-Key answers older than their 24 hours (customers.idempotency.KEY_LIFETIME);
- admin import uploads whose preview was never confirmed (customers.admin_io.UPLOAD_LIFETIME);
- expired refresh tokens in Simple JWT's outstanding and blacklist tables (its own
  `flushexpiredtokens`).
Nothing here is needed for correctness: each is already ignored once expired. It keeps the tables
and the upload directory from growing without end.
"""

from django.core.management import call_command
from django.core.management.base import BaseCommand

from customers import admin_io, idempotency


class Command(BaseCommand):
    help = "Delete expired idempotency keys, stale admin uploads and expired refresh tokens."

    def handle(self, *args, **options):
        keys = idempotency.purge_expired()
        uploads = admin_io.purge_stale_uploads()
        call_command("flushexpiredtokens", verbosity=0)
        self.stdout.write(
            f"Deleted {keys} expired idempotency keys and {uploads} unconfirmed uploads; "
            "flushed expired refresh tokens."
        )
