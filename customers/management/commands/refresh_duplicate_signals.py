"""manage.py refresh_duplicate_signals --organization ID: recompute the customers' identity
signals and its duplicate report's pairs, after the organization's phone region changed or rows
were loaded around the services (a restore, bench/generate.py's COPY)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from customers import duplicates, events
from customers.models import Customer
from organizations.models import Organization


class Command(BaseCommand):
    help = "Recompute one organization's duplicate-detection signals from its customers."

    def add_arguments(self, parser):
        parser.add_argument("--organization", type=int, required=True, help="Organization id.")

    def handle(self, *args, organization, **options):
        target = Organization.objects.filter(pk=organization).first()
        if target is None:
            raise CommandError(f"No organization with id {organization}.")
        with transaction.atomic():
            events.reserve(target.pk, 0)  # the organization's writes wait, as for any write
            done = duplicates.refresh(target, Customer.objects.filter(organization=target))
        duplicates.catch_up(target.pk)
        self.stdout.write(f"Signals of {done} customers recomputed, and their duplicate pairs.")
