from django.core.management.base import BaseCommand, CommandError

from organizations.models import Organization


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


class Command(BaseCommand):
    help = "List an organization's API keys: prefix, name, state and dates. Never a secret."

    def add_arguments(self, parser):
        parser.add_argument("--organization", type=int, required=True, help="Organization id")

    def handle(self, *args, organization, **options):
        org = Organization.objects.filter(pk=organization).first()
        if org is None:
            raise CommandError(f"No organization with id {organization}.")
        columns = ("id", "prefix", "state", "created", "last used", "expires", "by", "name")
        self.stdout.write("\t".join(columns))
        for api_key in org.api_keys.select_related("organization", "created_by"):
            if api_key.revoked_at:
                state = "revoked"
            elif api_key.is_usable():
                state = "active"
            else:
                state = "inactive"
            row = (
                str(api_key.pk),
                api_key.prefix,
                state,
                _when(api_key.created_at),
                _when(api_key.last_used_at),
                _when(api_key.expires_at),
                api_key.created_by.email if api_key.created_by else "-",
                api_key.name,
            )
            self.stdout.write("\t".join(row))
