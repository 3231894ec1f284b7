from django.core.management.base import BaseCommand, CommandError

from authkeys.services import api_keys_revoke
from organizations.models import Organization


class Command(BaseCommand):
    help = "Revoke an organization's API key, by id or by the prefix list_api_keys shows."

    def add_arguments(self, parser):
        parser.add_argument("--organization", type=int, required=True, help="Organization id")
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--id", type=int, help="Key id")
        which.add_argument("--prefix", help="Key prefix, e.g. bc_1a2b3c4d")

    def handle(self, *args, organization, id, prefix, **options):
        org = Organization.objects.filter(pk=organization).first()
        if org is None:
            raise CommandError(f"No organization with id {organization}.")
        api_keys = (
            org.api_keys.filter(pk=id) if id is not None else org.api_keys.filter(prefix=prefix)
        )
        found = list(api_keys)
        if not found:
            raise CommandError(f"No such API key in organization {organization}.")
        if len(found) > 1:
            raise CommandError("That prefix names several keys; use --id.")
        revoked = api_keys_revoke(api_keys=api_keys)
        state = "Revoked" if revoked else "Already revoked:"
        self.stdout.write(f"{state} {found[0]}")
