import pytest
from django.db import connection

from cluster import citus
from tests.customers.importing.conftest import run_import  # noqa: F401 (a fixture the tests use)


@pytest.fixture
def on_a_cluster(transactional_db):
    """Skips the test unless the database is a Citus coordinator, saying how to get one."""
    if not citus.installed(connection):
        pytest.skip(
            "needs a Citus coordinator: scripts/citus-cluster start && scripts/citus-cluster "
            "reset test_counterpart, then DATABASE_URL=postgres://postgres@127.0.0.1:5433/"
            "counterpart pytest --reuse-db tests/citus"
        )
