"""Bigcapital's bulk files over HTTP: upload → mapping → preview → import, the sample, the export.

Each step is its own request; the file is kept in the database, so any server may answer any
step. Every bad input is a 4xx that writes nothing.
"""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone
from openpyxl import Workbook, load_workbook
from rest_framework.test import APIClient

from customers.api.imports import XLSX_TYPE
from customers.models import Customer, CustomerChange, ImportUpload, ImportUploadPart

from ..factories import CustomerFactory

pytestmark = pytest.mark.django_db

# A file as a person keeps it: their own column names, a column Counterpart has no field for,
# and American dates.
CSV = (
    "Type,Name,Customer Code,E-mail,Currency,Balance,Balance Date,Favourite Colour\n"
    "business,Acme Ltd,ACME,ops@acme.example,USD,120.50,01/31/24,blue\n"
    "individual,Jane Doe,JANE,jane@example.com,EUR,,,green\n"
)
MAPPING = [
    {"from": "Type", "to": "customerType"},
    {"from": "Name", "to": "displayName"},
    {"from": "Customer Code", "to": "code"},
    {"from": "E-mail", "to": "email"},
    {"from": "Currency", "to": "currency_code"},  # any spelling of a field
    {"from": "Balance", "to": "openingBalance"},
    {"from": "Balance Date", "to": "openingBalanceAt", "dateFormat": "MM/dd/yy"},
]


def assert_error(response, status_code, error_type, field=None):
    assert response.status_code == status_code, response.content
    [error] = response.json()["errors"]
    assert (error["statusCode"], error["type"]) == (status_code, error_type)
    if field is not None:
        assert error["field"] == field
    return error


def upload(client, body=CSV, name="customers.csv", params=None, **form):
    content = body.encode() if isinstance(body, str) else body
    data = {"file": SimpleUploadedFile(name, content, form.pop("content_type", "text/csv"))}
    data["resource"] = form.pop("resource", "customers")
    if params is not None:
        data["params"] = params
    return client.post("/api/import/file", data, format="multipart")


def uploaded(client, body=CSV, mapping=MAPPING, **kwargs) -> str:
    response = upload(client, body, **kwargs)
    assert response.status_code == 200, response.content
    import_id = response.json()["import"]["importId"]
    mapped = client.post(f"/api/import/{import_id}/mapping", {"mapping": mapping}, format="json")
    assert mapped.status_code == 200, mapped.content
    return import_id


def codes(organization) -> list[str]:
    customers = Customer.objects.filter(organization=organization)
    return sorted(code or "" for code in customers.values_list("code", flat=True))


def test_the_upload_answers_the_files_columns_and_the_fields_they_can_fill(tenant, key_client):
    response = upload(key_client)

    assert response.status_code == 200
    body = response.json()
    assert body["import"] == {"importId": body["import"]["importId"], "resource": "Customer"}
    assert body["sheetColumns"] == CSV.splitlines()[0].split(",")
    columns = {column["key"]: column for column in body["resourceColumns"]}
    assert columns["displayName"] == {
        "key": "displayName",
        "name": "Display Name",
        "required": True,
    }
    assert columns["email"]["required"] is False
    assert not {"balance", "id"} & set(columns)  # read-only fields are not offered
    stored = ImportUpload.objects.get(import_id=body["import"]["importId"])
    assert stored.organization == tenant.organization
    assert stored.expires_at - timezone.now() > timedelta(hours=23)
    assert codes(tenant.organization) == [tenant.customer.code or ""]  # nothing imported yet


def test_the_whole_flow_previews_without_writing_then_imports_once(tenant, key_client):
    import_id = uploaded(key_client)
    before = codes(tenant.organization)

    preview = key_client.get(f"/api/import/{import_id}/preview")

    expected = {
        "resource": "Customer",
        "createdCount": 2,
        "updatedCount": 0,
        "unchangedCount": 0,
        "skippedCount": 0,
        "totalCount": 2,
        "errorsCount": 0,
        "errors": [],
        "unmappedColumns": ["Favourite Colour"],
        "unmappedColumnsCount": 1,
        "possibleDuplicates": [],
    }
    assert preview.status_code == 200
    assert preview.json() == {**expected, "imported": False}
    assert codes(tenant.organization) == before

    imported = key_client.post(f"/api/import/{import_id}/import")

    assert imported.status_code == 200
    assert imported.json() == {**expected, "imported": True}
    acme = Customer.objects.get(organization=tenant.organization, code="ACME")
    assert (acme.display_name, acme.email, acme.currency_code) == (
        "Acme Ltd",
        "ops@acme.example",
        "USD",
    )
    assert acme.opening_balance == Decimal("120.50")
    assert acme.opening_balance_at.date().isoformat() == "2024-01-31"
    change = CustomerChange.objects.get(customer_id=acme.pk)
    assert (change.door, change.actor_api_key_id) == ("import", tenant.api_key.pk)
    assert not ImportUploadPart.objects.exists()  # the file goes once it is written

    again = key_client.post(f"/api/import/{import_id}/import")

    assert again.json() == imported.json()
    assert codes(tenant.organization) == sorted([*before, "ACME", "JANE"])


def test_the_upload_state_shows_its_mapping_and_its_result(tenant, key_client):
    import_id = uploaded(key_client)
    key_client.post(f"/api/import/{import_id}/import")

    meta = key_client.get(f"/api/import/{import_id}").json()

    assert meta["importId"] == import_id
    assert meta["tenantId"] == tenant.organization.pk
    assert meta["params"] == {"mode": "create", "match": "code", "skipInvalid": False}
    assert meta["isMapped"] is True
    assert meta["map"][4] == {"from": "Currency", "to": "currencyCode"}
    assert meta["map"][6]["dateFormat"] == "MM/dd/yy"
    assert meta["result"]["createdCount"] == 2
    assert meta["importedAt"] is not None


def test_a_failed_row_writes_nothing_unless_skip_invalid_was_asked(tenant, key_client):
    body = CSV + "business,,NONAME,x@example.com,USD,,,red\n"
    all_or_nothing = uploaded(key_client, body)
    skipping = uploaded(key_client, body, params='{"skipInvalid": true}')
    before = codes(tenant.organization)

    refused = key_client.post(f"/api/import/{all_or_nothing}/import").json()

    assert (refused["imported"], refused["createdCount"], refused["skippedCount"]) == (False, 0, 3)
    assert refused["errorsCount"] == 1
    assert refused["errors"] == [
        {
            "rowNumber": 4,
            "errorCode": "VALIDATION_ERROR",
            "errorMessage": "displayName: This field is required.",
            "field": "displayName",
        }
    ]
    assert codes(tenant.organization) == before

    written = key_client.post(f"/api/import/{skipping}/import").json()

    assert (written["imported"], written["createdCount"], written["skippedCount"]) == (True, 2, 1)
    assert codes(tenant.organization) == sorted([*before, "ACME", "JANE"])


def test_update_mode_matches_by_code_and_reports_updated_and_unchanged(tenant, key_client):
    CustomerFactory(organization=tenant.organization, code="ACME", display_name="Old name")
    CustomerFactory(
        organization=tenant.organization,
        code="JANE",
        display_name="Jane Doe",
        customer_type="individual",
        email="jane@example.com",
    )
    body = (
        "Code,Name,Type,Mail\nACME,Acme Ltd,business,\nJANE,Jane Doe,individual,jane@example.com\n"
    )
    mapping = [
        {"from": "Code", "to": "code"},
        {"from": "Name", "to": "displayName"},
        {"from": "Type", "to": "customerType"},
        {"from": "Mail", "to": "email"},
    ]
    import_id = uploaded(key_client, body, mapping, params='{"mode": "update"}')

    result = key_client.post(f"/api/import/{import_id}/import").json()

    assert (result["updatedCount"], result["unchangedCount"], result["createdCount"]) == (1, 1, 0)
    assert Customer.objects.get(organization=tenant.organization, code="ACME").display_name == (
        "Acme Ltd"
    )


def test_an_xlsx_workbook_imports_like_csv(tenant, key_client):
    workbook = Workbook()
    sheet = workbook.active
    for line in csv.reader(io.StringIO(CSV)):
        sheet.append(line)
    content = io.BytesIO()
    workbook.save(content)
    import_id = uploaded(
        key_client, content.getvalue(), name="book.xlsx", content_type="application/octet-stream"
    )

    result = key_client.post(f"/api/import/{import_id}/import").json()

    assert (result["imported"], result["createdCount"]) == (True, 2)
    assert set(codes(tenant.organization)) >= {"ACME", "JANE"}


def test_answers_follow_the_organizations_snake_case_setting(tenant, key_client):
    tenant.organization.response_casing = "snake"
    tenant.organization.save()

    uploaded_file = upload(key_client).json()
    import_id = uploaded_file["import"]["import_id"]
    key_client.post(f"/api/import/{import_id}/mapping", {"mapping": MAPPING}, format="json")
    preview = key_client.get(f"/api/import/{import_id}/preview").json()

    assert {"sheet_columns", "resource_columns"} <= set(uploaded_file)
    assert (preview["created_count"], preview["unmapped_columns_count"]) == (2, 1)


# Bad input: a clear 4xx, and nothing written -----------------------------------------------


@pytest.mark.parametrize(
    ("name", "content_type", "body", "error_type"),
    [
        ("logo.png", "image/png", b"\x89PNG\r\n\x1a\n\x00\x00", "IMPORTED_FILE_EXTENSION_INVALID"),
        (
            "customers.xls",
            "application/vnd.ms-excel",
            b"\xd0\xcf\x11\xe0",
            "IMPORTED_FILE_EXTENSION_INVALID",
        ),
        ("binary.csv", "text/csv", b"a,b\n\x00\x01\x02,x\n", "IMPORTED_FILE_INVALID"),
        (
            "latin1.csv",
            "text/csv",
            "displayName\nCaf\xe9\n".encode("latin-1"),
            "IMPORTED_FILE_INVALID",
        ),
        ("header-only.csv", "text/csv", b"displayName,customerType\n", "IMPORTED_FILE_INVALID"),
        ("empty.csv", "text/csv", b"", "IMPORTED_FILE_INVALID"),
        ("fake.xlsx", XLSX_TYPE, b"not a zip archive", "IMPORTED_FILE_INVALID"),
    ],
)
def test_a_file_that_is_not_a_readable_csv_or_xlsx_is_refused(
    key_client, name, content_type, body, error_type
):
    response = upload(key_client, body, name=name, content_type=content_type)

    assert_error(response, 400, error_type, "file")
    assert not ImportUpload.objects.exists()


def test_a_two_gigabyte_upload_is_refused_by_its_size_before_it_is_read(key_client):
    declared = str(2 * 1024**3)
    data = {"file": SimpleUploadedFile("big.csv", b"x"), "resource": "customers"}

    response = key_client.post(
        "/api/import/file", data, format="multipart", CONTENT_LENGTH=declared
    )

    error = assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert "104857600" in error["message"]
    assert not ImportUpload.objects.exists()


@override_settings(API_MAX_UPLOAD_BYTES=1000)
def test_a_file_over_the_configured_limit_is_refused(key_client):
    assert_error(upload(key_client, CSV * 20), 413, "PAYLOAD_TOO_LARGE")
    assert not ImportUpload.objects.exists()


@pytest.mark.parametrize(
    ("form", "field", "error_type"),
    [
        ({"params": "{not json"}, "params", "VALIDATION_ERROR"),
        ({"params": "[]"}, "params", "VALIDATION_ERROR"),
        ({"params": '{"mode": "merge"}'}, "params.mode", "VALIDATION_ERROR"),
        ({"params": '{"dryRun": true}'}, "params.dryRun", "UNKNOWN_FIELD"),
        ({"resource": "vendors"}, "resource", "VALIDATION_ERROR"),
    ],
)
def test_bad_params_or_resource_are_refused_by_name(key_client, form, field, error_type):
    assert_error(upload(key_client, **form), 400, error_type, field)
    assert not ImportUpload.objects.exists()


def test_an_upload_that_is_not_a_multipart_form_is_415(key_client):
    response = key_client.post("/api/import/file", {"file": "x"}, format="json")

    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")


@pytest.mark.parametrize(
    ("entry", "error_type", "field"),
    [
        ({"from": "Name", "to": "shoeSize"}, "INVALID_MAP_ATTRS", "mapping[2].to"),
        ({"from": "Name", "to": "balance"}, "INVALID_MAP_ATTRS", "mapping[2].to"),
        ({"from": "Nom", "to": "displayName"}, "INVALID_MAP_ATTRS", "mapping[2].from"),
        ({"from": "Type", "to": "note"}, "DUPLICATED_FROM_MAP_ATTR", "mapping[2].from"),
        ({"from": "Name", "to": "currency_code"}, "DUPLICATED_TO_MAP_ATTR", "mapping[2].to"),
        (
            {"from": "Name", "to": "displayName", "dateFormat": "dd.MM.yy"},
            "INVALID_MAP_DATE_FORMAT",
            "mapping[2].dateFormat",
        ),
        ({"from": "Name", "to": "displayName", "dateFormat": "yy"}, "VALIDATION_ERROR", None),
    ],
)
def test_a_bad_mapping_is_refused_with_bigcapitals_error_and_not_kept(
    key_client, entry, error_type, field
):
    import_id = upload(key_client).json()["import"]["importId"]
    mapping = [{"from": "Type", "to": "customerType"}, {"from": "Currency", "to": "currencyCode"}]

    response = key_client.post(
        f"/api/import/{import_id}/mapping", {"mapping": [*mapping, entry]}, format="json"
    )

    assert_error(response, 400, error_type, field)
    assert ImportUpload.objects.get(import_id=import_id).mapping is None


def test_a_mapping_without_a_required_field_is_refused_before_any_import(key_client):
    import_id = upload(key_client).json()["import"]["importId"]

    response = key_client.post(
        f"/api/import/{import_id}/mapping",
        {"mapping": [{"from": "Name", "to": "displayName"}]},
        format="json",
    )

    error = assert_error(response, 400, "VALIDATION_ERROR", "mapping")
    assert error["message"] == "Missing required field: customerType, currencyCode."


def test_preview_or_import_before_the_mapping_is_refused(tenant, key_client):
    import_id = upload(key_client).json()["import"]["importId"]
    before = codes(tenant.organization)

    assert_error(key_client.get(f"/api/import/{import_id}/preview"), 400, "IMPORT_FILE_NOT_MAPPED")
    assert_error(key_client.post(f"/api/import/{import_id}/import"), 400, "IMPORT_FILE_NOT_MAPPED")
    assert codes(tenant.organization) == before


def test_a_written_import_cannot_be_remapped(key_client):
    import_id = uploaded(key_client)
    key_client.post(f"/api/import/{import_id}/import")

    response = key_client.post(
        f"/api/import/{import_id}/mapping", {"mapping": MAPPING}, format="json"
    )

    assert_error(response, 409, "IMPORT_ALREADY_DONE")


def test_another_organizations_upload_is_not_found_at_any_step(tenant, other_tenant, key_client):
    theirs = APIClient()
    theirs.credentials(HTTP_AUTHORIZATION=f"Bearer {other_tenant.key}")
    their_import = uploaded(theirs)
    before = codes(tenant.organization), codes(other_tenant.organization)

    for response in (
        key_client.get(f"/api/import/{their_import}"),
        key_client.post(f"/api/import/{their_import}/mapping", {"mapping": MAPPING}, format="json"),
        key_client.get(f"/api/import/{their_import}/preview"),
        key_client.post(f"/api/import/{their_import}/import"),
    ):
        error = assert_error(response, 404, "NOT_FOUND")
        assert "Acme" not in error["message"]
    assert (codes(tenant.organization), codes(other_tenant.organization)) == before
    assert ImportUpload.objects.get(import_id=their_import).result is None


def test_an_upload_older_than_a_day_is_not_found(tenant, key_client):
    import_id = uploaded(key_client)
    ImportUpload.objects.update(expires_at=timezone.now())

    assert_error(key_client.post(f"/api/import/{import_id}/import"), 404, "NOT_FOUND")
    assert codes(tenant.organization) == [tenant.customer.code or ""]


# The sample and the export -------------------------------------------------------------------


def rows_of(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_sample_file_imports_as_it_is(tenant, key_client, fmt):
    sample = key_client.get(f"/api/import/sample?resource=customers&format={fmt}")

    assert sample.status_code == 200
    assert sample["Content-Disposition"] == f'attachment; filename="customers-sample.{fmt}"'
    content = b"".join(sample.streaming_content)
    uploaded_sample = upload(key_client, content, name=f"sample.{fmt}").json()
    columns = uploaded_sample["sheetColumns"]
    identity = [{"from": column, "to": column} for column in columns]
    import_id = uploaded(key_client, content, identity, name=f"sample.{fmt}")

    result = key_client.post(f"/api/import/{import_id}/import").json()

    assert (result["imported"], result["createdCount"], result["errors"]) == (True, 2, [])
    assert {"CUS-0001", "CUS-0002"} <= set(codes(tenant.organization))


def test_the_sample_is_xlsx_unless_asked_otherwise(key_client):
    sample = key_client.get("/api/import/sample?resource=Customer")

    assert sample["Content-Type"] == XLSX_TYPE
    sheet = load_workbook(io.BytesIO(b"".join(sample.streaming_content))).active
    assert [cell.value for cell in sheet[1]][:3] == ["customerType", "displayName", "code"]


@pytest.mark.parametrize("accept", ["text/csv", "*/*", "", "text/csv, application/json;q=0.5"])
def test_export_answers_csv_of_the_organizations_customers_only(
    tenant, other_tenant, key_client, accept
):
    CustomerFactory(organization=tenant.organization, display_name="Second")

    response = key_client.get("/api/export?resource=customers", HTTP_ACCEPT=accept)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    names = [row["displayName"] for row in rows_of(response)]
    assert sorted(names) == sorted([tenant.customer.display_name, "Second"])
    assert other_tenant.customer.display_name not in names


def test_export_answers_xlsx_when_accept_asks_for_it(tenant, key_client):
    response = key_client.get("/api/export?resource=customers", HTTP_ACCEPT=XLSX_TYPE)

    assert response["Content-Type"] == XLSX_TYPE
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert sheet.cell(row=2, column=2).value == tenant.customer.display_name


def test_an_export_imports_back_into_another_organization_unchanged(
    tenant, other_tenant, key_client
):
    export = b"".join(key_client.get("/api/export?resource=customers").streaming_content)
    theirs = APIClient()
    theirs.credentials(HTTP_AUTHORIZATION=f"Bearer {other_tenant.key}")
    columns = upload(theirs, export).json()["sheetColumns"]
    import_id = uploaded(theirs, export, [{"from": name, "to": name} for name in columns])

    assert theirs.post(f"/api/import/{import_id}/import").json()["imported"] is True
    fields = ["display_name", "email", "currency_code", "opening_balance", "billing_address_1"]
    copied = Customer.objects.filter(organization=other_tenant.organization).exclude(
        pk=other_tenant.customer.pk
    )
    assert list(copied.values(*fields)) == list(
        Customer.objects.filter(organization=tenant.organization).values(*fields)
    )


@pytest.mark.parametrize(
    ("url", "accept", "status_code", "error_type"),
    [
        ("/api/export?resource=customers", "application/json", 406, "NOT_ACCEPTABLE"),
        ("/api/export?resource=customers", "application/pdf", 406, "NOT_ACCEPTABLE"),
        ("/api/export", "text/csv", 400, "VALIDATION_ERROR"),
        ("/api/export?resource=invoices", "text/csv", 400, "VALIDATION_ERROR"),
        ("/api/import/sample?resource=customers&format=pdf", "", 400, "VALIDATION_ERROR"),
        ("/api/import/sample", "", 400, "VALIDATION_ERROR"),
    ],
)
def test_a_file_the_server_cannot_give_is_a_json_error(
    key_client, url, accept, status_code, error_type
):
    response = key_client.get(url, HTTP_ACCEPT=accept)

    assert response["Content-Type"] == "application/json"
    assert_error(response, status_code, error_type)


def test_the_routes_need_credentials(client):
    assert_error(client.get("/api/export?resource=customers"), 401, "NOT_AUTHENTICATED")
    assert_error(upload(client), 401, "NOT_AUTHENTICATED")


def test_the_preview_names_rows_like_customers_of_the_book(tenant, key_client):
    from common.actors import Actor, Door
    from customers import services

    acme = services.customer_create(
        organization=tenant.organization,
        data={
            "customer_type": "business",
            "display_name": "ACME Limited",
            "email": "OPS@acme.example",
            "currency_code": "USD",
        },
        actor=Actor(door=Door.COMMAND),
    )
    import_id = uploaded(key_client)

    preview = key_client.get(f"/api/import/{import_id}/preview")

    assert preview.json()["possibleDuplicates"] == [
        {"rowNumber": 2, "customerId": acme.pk, "otherRowNumber": None, "score": 0.96}
    ]
    assert preview.json()["createdCount"] == 2
