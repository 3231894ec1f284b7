"""An import's history rows have the same form as the API's, for the same change."""

import pytest

from customers.models import Customer, CustomerChange
from tests.factories import CustomerFactory

from .conftest import write_csv

pytestmark = pytest.mark.django_db

CREATED = {
    "customerType": "business",
    "displayName": "Acme",
    "code": "A-1",
    "email": "a@example.com",
    "currencyCode": "USD",
    "openingBalance": 1500.5,
    "openingBalanceAt": "2024-01-01T10:30:00.250000Z",
    "openingBalanceExchangeRate": 1.25,
    "active": False,
    "note": 'Says "hi"\nand \\ leaves',
}
CREATED_CELLS = {**CREATED, "active": "no"}

UPDATED = {
    "customerType": "individual",
    "displayName": "Acme Ltd",
    "email": "",
    "active": False,
    "note": "ünïcode ✓",
}
# currencyCode: required for the rows an upsert would create; read-only on update.
UPDATED_CELLS = {**UPDATED, "active": "no", "currencyCode": "USD"}


def _history(organization) -> CustomerChange:
    return CustomerChange.objects.get(organization=organization)


def _csv(tmp_path, cells: dict):
    return write_csv(tmp_path / "c.csv", [list(cells), [str(value) for value in cells.values()]])


def test_an_imported_customer_has_the_history_row_of_one_created_through_the_api(
    tmp_path, tenant, other_tenant, key_client, run_import
):
    response = key_client.post("/api/customers", CREATED, format="json")
    run = run_import(_csv(tmp_path, CREATED_CELLS), other_tenant.organization)

    assert response.status_code == 201, response.json()
    assert run.failed is None, run.output
    api, imported = _history(tenant.organization), _history(other_tenant.organization)
    assert imported.changes == api.changes
    assert imported.changes["openingBalanceAt"] == [None, "2024-01-01T10:30:00.250000Z"]
    assert imported.changes["note"] == [None, CREATED["note"]]
    assert (imported.action, imported.door, imported.actor_user, imported.actor_api_key) == (
        api.action,
        "import",
        None,
        None,
    )
    assert (api.door, api.actor_api_key) == ("api", tenant.api_key)
    assert imported.customer_display_name == api.customer_display_name == "Acme"


@pytest.mark.parametrize("mode", ["upsert", "update"])
def test_an_imported_update_has_the_history_row_of_the_same_api_edit(
    tmp_path, tenant, other_tenant, key_client, run_import, mode
):
    before = {
        "code": "A-1",
        "display_name": "Acme",
        "email": "a@example.com",
        "customer_type": "business",
        "note": "",
        "active": True,
        "currency_code": "USD",
    }
    by_api = CustomerFactory(organization=tenant.organization, **before)
    by_file = CustomerFactory(organization=other_tenant.organization, **before)
    CustomerChange.objects.all().delete()

    response = key_client.put(f"/api/customers/{by_api.pk}", UPDATED, format="json")
    run = run_import(
        _csv(tmp_path, {"code": "A-1", **UPDATED_CELLS}), other_tenant.organization, "--mode", mode
    )

    assert response.status_code == 200, response.json()
    assert run.failed is None, run.output
    api, imported = _history(tenant.organization), _history(other_tenant.organization)
    assert imported.changes == api.changes
    assert api.changes == {
        "customerType": ["business", "individual"],
        "displayName": ["Acme", "Acme Ltd"],
        "email": ["a@example.com", ""],
        "active": [True, False],
        "note": ["", "ünïcode ✓"],
    }
    assert (imported.action, imported.door) == (api.action, "import") == ("update", "import")
    assert imported.customer_display_name == api.customer_display_name == "Acme Ltd"
    by_api.refresh_from_db()
    assert Customer.objects.get(pk=by_file.pk).version == by_api.version == 2
