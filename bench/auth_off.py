"""Counterpart with authentication switched off, served by bench/load.py to price authentication.

    .venv/bin/python bench/load.py --against auth-off --scenarios get

The same WSGI application as config.wsgi, except that the customer API does not authenticate: the
`Authorization` header's text picks the organization from a table read once at start-up from
bench/out/tenants.tsv (a dictionary lookup; no parsing, no hashing, no query, no rate-limit count).
Everything else — middleware, routing, DRF, the customer's query, rendering — is Counterpart's own,
so the difference between the two servers is what authentication costs a request.

Never serve this outside a benchmark: anyone holding a bench tenant's key text gets its data.
"""

import os
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()  # what config.wsgi serves; it sets Django up first

from authkeys.authentication import Principal  # noqa: E402
from customers.api.views import CustomerViewSet  # noqa: E402
from organizations.models import Organization  # noqa: E402

TENANTS = Path(__file__).resolve().parent / "out" / "tenants.tsv"


def _principals() -> dict[str, Principal]:
    """`Bearer <key>` → a principal for the key's organization, as bench/generate.py wrote them."""
    tenants = [line.split("\t") for line in TENANTS.read_text().splitlines()]
    organizations = Organization.objects.in_bulk([int(tenant[1]) for tenant in tenants])
    return {
        f"Bearer {key}": Principal(organization=organizations[int(organization_id)], user=None)
        for key, organization_id, *_ in tenants
    }


class AuthenticationOff:
    principals = _principals()

    def authenticate(self, request):
        return None, self.principals[request.META["HTTP_AUTHORIZATION"]]

    def authenticate_header(self, request):
        return "Bearer"


CustomerViewSet.authentication_classes = [AuthenticationOff]
