from django.apps import AppConfig
from django.core.signals import request_finished


class CommonConfig(AppConfig):
    name = "common"

    def ready(self):
        from .requestlog import forget_request_id

        request_finished.connect(forget_request_id, dispatch_uid="common.forget_request_id")
