from django.apps import AppConfig


class AuthkeysConfig(AppConfig):
    name = "authkeys"
    verbose_name = "API keys"

    def ready(self):
        from . import schema  # noqa: F401  (registers the OpenAPI extension)
