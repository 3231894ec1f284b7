from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import post_save


class AuthkeysConfig(AppConfig):
    name = "authkeys"
    verbose_name = "API keys"

    def ready(self):
        from . import schema  # noqa: F401  (registers the OpenAPI extension)
        from .tokens import end_sessions_on_password_change

        post_save.connect(
            end_sessions_on_password_change,
            sender=settings.AUTH_USER_MODEL,
            dispatch_uid="authkeys.end_sessions_on_password_change",
        )
