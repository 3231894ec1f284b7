"""What the running application needs to know of Citus: whether its database is a coordinator.

How the schema is laid out on a cluster is cluster/citus.py's; this is the one question code of
the lower layers asks, answered once per database.
"""

_installed: dict[tuple, bool] = {}


def installed(connection) -> bool:
    """Whether the database behind `connection` has the Citus extension."""
    if connection.vendor != "postgresql":
        return False
    settings = connection.settings_dict
    key = (settings["HOST"], settings["PORT"], settings["NAME"])
    if key not in _installed:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'citus'")
            _installed[key] = cursor.fetchone() is not None
    return _installed[key]
