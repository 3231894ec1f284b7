"""Two requests at once, on PostgreSQL (each thread has its own connection and transaction)."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from customers.importing import uploads
from customers.models import Customer, CustomerIdempotencyKey

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

BODY = {"customerType": "business", "displayName": "Racer", "currencyCode": "USD"}


def race(tenant, body, headers, runners=2):
    """Send the same POST from `runners` threads released together; return the responses."""
    barrier = threading.Barrier(runners)
    responses = []

    def run():
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {tenant.key}")
        try:
            barrier.wait()
            responses.append(api.post("/api/customers", body, format="json", **headers))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


def test_simultaneous_creates_with_one_idempotency_key_create_one_customer(tenant):
    responses = race(tenant, BODY, {"HTTP_IDEMPOTENCY_KEY": "same"}, runners=4)

    assert [response.status_code for response in responses] == [201] * 4
    assert len({response.json()["id"] for response in responses}) == 1
    assert Customer.objects.filter(display_name="Racer").count() == 1
    assert CustomerIdempotencyKey.objects.filter(key="same").count() == 1


def test_simultaneous_creates_with_one_code_create_one_and_refuse_the_other(tenant):
    responses = race(tenant, {**BODY, "code": "RACE-1"}, {})

    assert sorted(response.status_code for response in responses) == [201, 400]
    [refused] = [response for response in responses if response.status_code == 400]
    assert refused.json()["errors"][0]["type"] == "CUSTOMER_CODE_TAKEN"
    assert Customer.objects.filter(code="RACE-1").count() == 1


def test_one_upload_imported_by_two_requests_at_once_is_written_once(tenant):
    """A client retrying `POST /api/import/{id}/import` while the first is still running: the
    second waits for the first, then answers its result, and the rows are not written twice."""
    body = b"Type,Name,Currency\nbusiness,Imported once,USD\nindividual,Also once,EUR\n"
    upload = uploads.store(
        organization=tenant.organization, chunks=[body], filename="f.csv", fmt="csv", params={}
    )
    uploads.set_mapping(
        upload,
        [
            {"from": "Type", "to": "customerType"},
            {"from": "Name", "to": "displayName"},
            {"from": "Currency", "to": "currencyCode"},
        ],
    )
    barrier = threading.Barrier(2)
    answers = []

    def run():
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {tenant.key}")
        try:
            barrier.wait()
            answers.append(api.post(f"/api/import/{upload.import_id}/import").json())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [answer["createdCount"] for answer in answers] == [2, 2]
    assert answers[0] == answers[1]
    assert Customer.objects.filter(display_name="Imported once").count() == 1
    assert Customer.objects.filter(display_name="Also once").count() == 1
