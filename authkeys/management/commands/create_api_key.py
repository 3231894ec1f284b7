from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from authkeys.services import api_key_create
from organizations.models import Organization, User


class Command(BaseCommand):
    help = "Create an API key for an organization and print it. It is shown this once."

    def add_arguments(self, parser):
        parser.add_argument("--organization", type=int, required=True, help="Organization id")
        parser.add_argument("--name", required=True, help="What the key is for, e.g. 'CRM sync'")
        parser.add_argument("--user", help="Email of the user the key acts on behalf of")
        parser.add_argument("--expires-in-days", type=int, help="Expire the key after N days")

    def handle(self, *args, organization, name, user, expires_in_days, **options):
        org = Organization.objects.filter(pk=organization).first()
        if org is None:
            raise CommandError(f"No organization with id {organization}.")
        created_by = None
        if user:
            created_by = User.objects.filter(email=User.objects.normalize_email(user)).first()
            if created_by is None:
                raise CommandError(f"No user with email {user}.")
        if expires_in_days is not None and expires_in_days <= 0:
            raise CommandError("--expires-in-days must be a positive number of days.")
        expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
        issued = api_key_create(
            organization=org, name=name.strip(), created_by=created_by, expires_at=expires_at
        )
        self.stderr.write(f"Created API key {issued.api_key.prefix}… for {org}. Store it now:")
        self.stdout.write(issued.key)
