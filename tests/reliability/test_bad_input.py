"""Bad input across bodies, query strings, headers and files: a JSON 4xx, never a 5xx or HTML.

Every case asserts the contract's envelope and that nothing was written. Cases already elsewhere,
which this catalogue counts and does not repeat:
- tests/common/test_errors.py: on `PUT /api/customers/{id}`, broken JSON, a trailing comma,
  NaN, Infinity, a duplicate key, invalid UTF-8, arrays nested 1,000 and 100,000 deep, a form
  body, a body without Content-Type, a 10 MB body, a NUL in `displayName`, an array body, an
  empty body, a list where text belongs; unknown routes; a wrong method.
- tests/customers/importing/test_bad_files.py: CSV files with NUL bytes, in a wrong encoding,
  empty, malformed JSON, unknown formats.
"""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from authkeys.models import ApiKey
from customers.models import Customer, CustomerChange, CustomerIdempotencyKey
from tests.conftest import access_token

pytestmark = pytest.mark.django_db

BEYOND_64_BITS = 2**64
CREATE = {"customerType": "business", "displayName": "Bad input", "currencyCode": "USD"}


def raw(body: dict) -> bytes:
    return json.dumps(body).encode()


def deep_objects(depth: int) -> bytes:
    return b'{"ids": ' + b'{"a": ' * depth + b"1" + b"}" * depth + b"}"


# id, method, path ({id} is organization A's customer), body, content type, status, error type
BODIES = [
    ("objects-1000-deep", "POST", "customers/bulk-delete", deep_objects(1000), None, 400, None),
    ("objects-100000-deep", "POST", "customers", deep_objects(100_000), None, 400, None),
    (
        "nul-in-code",
        "POST",
        "customers",
        raw({**CREATE, "code": "C\x00-1"}),
        None,
        400,
        "VALIDATION_ERROR",
    ),
    (
        "lone-surrogate",
        "POST",
        "customers",
        b'{"customerType": "business", "displayName": "\\ud800", "currencyCode": "USD"}',
        None,
        400,
        "VALIDATION_ERROR",
    ),
    (
        "branch-id-beyond-64-bits",
        "POST",
        "customers",
        raw({**CREATE, "openingBalanceBranchId": BEYOND_64_BITS}),
        None,
        400,
        "VALIDATION_ERROR",
    ),
    (
        "opening-balance-branch-id-10e30",
        "PUT",
        "customers/{id}/opening-balance",
        raw(
            {
                "openingBalance": 1,
                "openingBalanceAt": "2024-01-01",
                "openingBalanceBranchId": 10**30,
            }
        ),
        None,
        400,
        "VALIDATION_ERROR",
    ),
    (
        "opening-balance-1e400",
        "PUT",
        "customers/{id}/opening-balance",
        b'{"openingBalance": 1e400, "openingBalanceAt": "2024-01-01"}',
        None,
        400,
        "VALIDATION_ERROR",
    ),
    (
        "opening-balance-nan",
        "PUT",
        "customers/{id}/opening-balance",
        b'{"openingBalance": NaN}',
        None,
        400,
        "MALFORMED_JSON",
    ),
    (
        "exchange-rate-minus-infinity",
        "POST",
        "customers",
        raw(CREATE)[:-1] + b', "openingBalanceExchangeRate": -Infinity}',
        None,
        400,
        "MALFORMED_JSON",
    ),
    (
        "bulk-id-beyond-64-bits",
        "POST",
        "customers/bulk-delete",
        raw({"ids": [BEYOND_64_BITS]}),
        None,
        400,
        "VALIDATION_ERROR",
    ),
    (
        "bulk-id-minus-beyond-64-bits",
        "POST",
        "customers/validate-bulk-delete",
        raw({"ids": [-BEYOND_64_BITS]}),
        None,
        400,
        "VALIDATION_ERROR",
    ),
    (
        "bulk-delete-10001-ids",
        "POST",
        "customers/bulk-delete",
        raw({"ids": list(range(1, 10_002))}),
        None,
        400,
        "VALIDATION_ERROR",
    ),
    (
        "bulk-duplicate-key",
        "POST",
        "customers/bulk-delete",
        b'{"ids": [1], "ids": [2]}',
        None,
        400,
        "MALFORMED_JSON",
    ),
    (
        "overlong-utf8",
        "POST",
        "customers",
        b'{"customerType": "business", "displayName": "\xc0\xaf", "currencyCode": "USD"}',
        None,
        400,
        "MALFORMED_JSON",
    ),
    ("a-json-string", "POST", "customers", b'"customer"', None, 400, "VALIDATION_ERROR"),
    # Half of a surrogate pair: JSON can escape it, but it is not text. Refused by the field that
    # reads it, and quoted back in the error as the same escape.
    (
        "lone-surrogate-in-a-value",
        "POST",
        "customers",
        b'{"customerType": "\\ud800", "displayName": "X", "currencyCode": "USD"}',
        None,
        400,
        "VALIDATION_ERROR",
    ),
    (
        "lone-surrogate-in-a-key",
        "PATCH",
        "customers/{id}",
        b'{"\\udc00": 1}',
        None,
        400,
        "UNKNOWN_FIELD",
    ),
    (
        "lone-surrogate-in-bulk-delete",
        "POST",
        "customers/bulk-delete",
        b'{"ids": [1], "\\ud83d": true}',
        None,
        400,
        "UNKNOWN_FIELD",
    ),
    # A date-time whose offset moves it past year 9999 in UTC.
    (
        "opening-balance-at-past-9999-in-utc",
        "POST",
        "customers",
        raw(CREATE | {"openingBalance": 1, "openingBalanceAt": "9999-12-31T23:59:59-05:00"}),
        None,
        400,
        "VALIDATION_ERROR",
    ),
    (
        "multipart",
        "POST",
        "customers",
        b'--x\r\nContent-Disposition: form-data; name="displayName"\r\n\r\nx\r\n--x--\r\n',
        "multipart/form-data; boundary=x",
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    ),
    ("text-plain", "POST", "customers", raw(CREATE), "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE"),
    (
        "form-on-bulk-delete",
        "POST",
        "customers/bulk-delete",
        b"ids=1",
        "application/x-www-form-urlencoded",
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    ),
    ("no-content-type", "POST", "customers", raw(CREATE), "", 415, "UNSUPPORTED_MEDIA_TYPE"),
]

# id, path after /api/ ({id} is organization A's customer), status, error type
QUERIES = [
    ("nul-in-search", "customers?searchKeyword=a%00b", 400, "VALIDATION_ERROR"),
    ("invalid-utf8-in-search", "customers?searchKeyword=%ff%fe", 400, "VALIDATION_ERROR"),
    ("page-10e30", f"customers?page={10**30}", 400, "VALIDATION_ERROR"),
    ("page-beyond-64-bits", f"customers?page={BEYOND_64_BITS}", 400, "VALIDATION_ERROR"),
    ("page-size-beyond-64-bits", f"customers?pageSize={BEYOND_64_BITS}", 400, "VALIDATION_ERROR"),
    ("page-zero", "customers?page=0", 400, "VALIDATION_ERROR"),
    ("page-size-zero", "customers?pageSize=0", 400, "VALIDATION_ERROR"),
    ("page-size-negative", "customers?pageSize=-1", 400, "VALIDATION_ERROR"),
    ("unknown-sort-column", "customers?columnSortBy=password", 400, "VALIDATION_ERROR"),
    ("sort-order-sideways", "customers?sortOrder=sideways", 400, "VALIDATION_ERROR"),
    ("updated-since-not-a-date", "customers?updatedSince=yesterday", 400, "VALIDATION_ERROR"),
    (
        "updated-since-before-year-1-in-utc",
        "customers?updatedSince=0001-01-01T00:00:00%2B05:00",
        400,
        "VALIDATION_ERROR",
    ),
    ("path-id-beyond-64-bits", f"customers/{BEYOND_64_BITS}", 404, None),
    ("path-id-10e30-history", f"customers/{10**30}/history", 404, None),
    ("api-key-id-10e30", f"api-keys/{10**30}/revoke", 404, None),
]


def state():
    return (
        list(Customer.objects.values().order_by("id")),
        list(CustomerChange.objects.values_list("id", flat=True).order_by("id")),
        list(ApiKey.objects.values("id", "name", "revoked_at", "expires_at").order_by("id")),
        CustomerIdempotencyKey.objects.count(),
    )


def assert_envelope(response, status: int, error_type: str | None = None) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    [first, *_] = response.json()["errors"]
    assert first["statusCode"] == status
    assert first["message"]
    if error_type is not None:
        assert first["type"] == error_type
    return first


@pytest.mark.parametrize(
    ("method", "path", "body", "content_type", "status", "error_type"),
    [pytest.param(*case[1:], id=case[0]) for case in BODIES],
)
def test_bad_bodies_are_json_4xx_and_write_nothing(
    tenant, key_client, method, path, body, content_type, status, error_type
):
    before = state()
    url = "/api/" + path.format(id=tenant.customer.pk)

    response = key_client.generic(
        method, url, body, content_type="application/json" if content_type is None else content_type
    )

    assert_envelope(response, status, error_type)
    assert state() == before


@pytest.mark.parametrize(
    ("path", "status", "error_type"), [pytest.param(*case[1:], id=case[0]) for case in QUERIES]
)
def test_bad_query_strings_and_path_ids_are_json_4xx(tenant, jwt_client, path, status, error_type):
    before = state()
    url = "/api/" + path.format(id=tenant.customer.pk)

    response = jwt_client.put(url) if "revoke" in path else jwt_client.get(url)

    assert_envelope(response, status, error_type)
    assert state() == before


def test_raw_invalid_utf8_bytes_in_a_query_string_are_400(key_client):
    response = key_client.get("/api/customers", QUERY_STRING="searchKeyword=\xff\xfe")

    assert_envelope(response, 400, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    ("organization_id", "status"),
    [("abc", 403), ("1\x00", 403), (str(BEYOND_64_BITS), 403), ("-1", 403), ("", 403)],
    ids=["abc", "nul", "beyond-64-bits", "negative", "empty"],
)
def test_bad_organization_id_headers_are_refused(tenant, client, organization_id, status):
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {access_token(tenant.owner)}",
        HTTP_ORGANIZATION_ID=organization_id,
    )
    before = state()

    response = client.post("/api/customers", CREATE, format="json")

    assert_envelope(response, status)
    assert state() == before


@pytest.mark.parametrize(
    "authorization",
    ["Bearer bc_\xe9\xff\xfe", "Bearer \xe9t\xe9", "B\xe9arer token", "Bearer bc_\x00"],
    ids=["non-ascii-key", "non-ascii-jwt", "non-ascii-scheme", "nul"],
)
def test_authorization_headers_with_odd_bytes_are_401(client, tenant, authorization):
    before = state()

    response = client.post(
        "/api/customers", CREATE, format="json", HTTP_AUTHORIZATION=authorization
    )

    assert_envelope(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert state() == before


def test_a_nul_in_the_idempotency_key_is_400_and_creates_nothing(key_client):
    before = state()

    response = key_client.post(
        "/api/customers", CREATE, format="json", HTTP_IDEMPOTENCY_KEY="k\x00"
    )

    assert_envelope(response, 400)
    assert state() == before


def test_a_nul_in_if_match_writes_nothing(tenant, key_client):
    before = state()

    response = key_client.patch(
        f"/api/customers/{tenant.customer.pk}",
        {"note": "changed"},
        format="json",
        HTTP_IF_MATCH='"\x00"',
    )

    assert_envelope(response, 412, "PRECONDITION_FAILED")
    assert state() == before


class _Endless(io.RawIOBase):
    """`size` bytes of one JSON string, produced in chunks: 50 MB without a 50 MB buffer."""

    def __init__(self, size: int):
        self.left = size

    def readable(self):
        return True

    def readinto(self, buffer):
        n = min(len(buffer), self.left)
        buffer[:n] = b"x" * n
        self.left -= n
        return n


def test_a_50_mb_body_is_413_and_read_no_further_than_the_limit(tenant, key_client, settings):
    size = 50 * 1024 * 1024
    stream = _Endless(size)
    before = state()

    response = key_client.generic(
        "POST",
        "/api/customers",
        content_type="application/json",
        CONTENT_LENGTH=str(size),
        **{"wsgi.input": stream},
    )

    assert_envelope(response, 413, "PAYLOAD_TOO_LARGE")
    assert size - stream.left <= settings.API_MAX_BODY_BYTES + 1
    assert state() == before


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        ("nul.jsonl", raw(CREATE) + b"\n" + raw(CREATE)[:-2] + b'\x00"}\n', "NUL bytes"),
        ("bad.json", b'[{"customerType": "business", "displayName": "\xff"}]', "not UTF-8"),
    ],
    ids=["json-lines-with-nul", "json-with-invalid-utf8"],
)
def test_import_files_with_nul_or_invalid_utf8_are_refused(tmp_path, tenant, name, content, said):
    path = tmp_path / name
    path.write_bytes(content)
    before = state()

    with pytest.raises(CommandError, match=said):
        call_command(
            "import_customers",
            str(path),
            "--organization",
            str(tenant.organization.pk),
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )

    assert state() == before


def test_an_escaped_surrogate_pair_is_text_and_is_kept(tenant, key_client):
    body = b'{"customerType": "business", "currencyCode": "USD", "displayName": "\\ud83d\\ude00"}'

    response = key_client.generic("POST", "/api/customers", body, content_type="application/json")

    assert response.status_code == 201, response.json()
    assert Customer.objects.get(pk=response.json()["id"]).display_name == "\U0001f600"


def test_a_sign_in_with_half_a_surrogate_pair_is_a_json_400(client):
    body = b'{"email": "\\ud800@example.com", "password": "x"}'

    response = client.generic("POST", "/api/auth/token", body, content_type="application/json")

    assert_envelope(response, 400, "VALIDATION_ERROR")
