from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"

    def ready(self):
        from customers import events

        from . import checks, receivers  # noqa: F401  (the system checks register on import)

        events.written.connect(receivers.queue_dispatch, dispatch_uid="webhooks.queue_dispatch")
