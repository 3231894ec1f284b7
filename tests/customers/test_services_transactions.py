import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from common.actors import Actor, Door
from common.errors import ApplicationError
from customers.models import Customer, CustomerChange
from customers.services import customer_update
from tests.factories import CustomerFactory


def test_a_code_clash_inside_a_larger_transaction_leaves_that_transaction_usable(tenant):
    CustomerFactory(organization=tenant.organization, code="TAKEN")

    with transaction.atomic():
        with pytest.raises(ApplicationError) as caught:
            customer_update(
                organization=tenant.organization,
                customer_id=tenant.customer.pk,
                changes={"code": "TAKEN", "display_name": "Renamed"},
                actor=Actor(door=Door.COMMAND),
            )
        # The caller's transaction goes on: the failed write is undone, nothing else is.
        tenant.customer.refresh_from_db()
        assert Customer.objects.filter(organization=tenant.organization).count() == 2

    assert caught.value.error_type == "CUSTOMER_CODE_TAKEN"
    assert tenant.customer.code is None
    assert tenant.customer.display_name != "Renamed"
    assert tenant.customer.version == 1
    assert not CustomerChange.objects.filter(customer_id=tenant.customer.pk).exists()


def test_an_edit_opens_no_savepoint_inside_its_own_transaction(tenant, key_client):
    with CaptureQueriesContext(connection) as captured:
        response = key_client.patch(
            f"/api/customers/{tenant.customer.pk}", {"displayName": "Renamed"}, format="json"
        )

    assert response.status_code == 200
    savepoints = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SAVEPOINT")]
    # One: the service's transaction, nested in the test's own. Served, it is the outermost: none.
    assert len(savepoints) == 1
