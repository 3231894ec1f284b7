"""`check --deploy` warns when webhooks may reach this machine's loopback over plain http."""

from django.conf import settings
from django.core.checks import Warning, register


@register("webhooks", deploy=True)
def loopback_webhooks_in_production(app_configs, **kwargs):
    if not settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP:
        return []
    return [
        Warning(
            "WEBHOOKS_ALLOW_LOOPBACK_HTTP is on: webhooks may be sent over plain http to this "
            "machine's loopback addresses.",
            hint="It is for development and tests; leave it unset in production.",
            id="webhooks.W001",
        )
    ]
