"""manage.py export_customers --organization ID: one organization's customers as a file."""

import sys

from django.core.management.base import BaseCommand, CommandError

from customers.importing.export import EXPORT_FORMATS, customer_export
from customers.importing.readers import FileRefused, format_for
from customers.models import Customer
from organizations.models import Organization


class Command(BaseCommand):
    help = "Export one organization's customers as CSV, JSON or XLSX; the import reads it back."

    def add_arguments(self, parser):
        parser.add_argument("--organization", type=int, required=True, help="Organization id.")
        parser.add_argument("--format", choices=EXPORT_FORMATS, help="Default: from --output.")
        parser.add_argument("--output", metavar="PATH", help="Default: standard output.")

    def handle(self, *args, organization, output, **options):
        target = Organization.objects.filter(pk=organization).first()
        if target is None:
            raise CommandError(f"No organization with id {organization}.")
        fmt = options["format"]
        if fmt is None and output and output != "-":
            try:
                fmt = format_for(output, None)
            except FileRefused as error:
                raise CommandError(str(error)) from None
        fmt = fmt or "csv"
        if fmt not in EXPORT_FORMATS:
            raise CommandError(
                f"Cannot export as {fmt}: choose one of {', '.join(EXPORT_FORMATS)}."
            )
        if fmt == "xlsx" and not (output and output != "-"):
            raise CommandError("XLSX needs --output PATH: a workbook cannot stream to a terminal.")
        queryset = Customer.objects.filter(organization=target)
        if output and output != "-":
            with open(output, "wb") as out:
                count = customer_export(queryset=queryset, fmt=fmt, out=out)
            self.stderr.write(f"Exported {count} customers to {output}.")
        else:
            customer_export(queryset=queryset, fmt=fmt, out=sys.stdout.buffer)
