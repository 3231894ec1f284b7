from django.apps import AppConfig


class ClusterConfig(AppConfig):
    """How the schema lies on a Citus cluster (cluster/citus.py); no models of its own."""

    name = "cluster"
    verbose_name = "Citus cluster"
