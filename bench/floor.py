"""The floor: the least a server can do for Counterpart's requests, to measure Counterpart against.

A bare WSGI application, served by the same gunicorn settings (bench/load.py does this), that runs
the same SQL per request with psycopg and a psycopg_pool per worker, and writes the JSON by hand:

- authentication: one indexed lookup of the key's digest, joined to its organization and creator;
- GET /api/customers/{id}: one SELECT by id and organization;
- PUT /api/customers/{id}: one UPDATE … RETURNING of the body's fields (no validation, no history);
- GET /api/customers?page=&pageSize=&searchKeyword=: one LIMIT/OFFSET page and one count(*).

It validates nothing and keeps no history: it is a floor, not a second implementation.

    DATABASE_URL=postgres://… gunicorn bench.floor:application
"""

import hashlib
import os
import re
from decimal import Decimal
from urllib.parse import parse_qs

import orjson
from psycopg_pool import ConnectionPool

from customers.fields import FIELDS, INPUT_SPELLINGS
from customers.search import SEARCHED_ATTRIBUTES

COMPUTED = {"closing_balance", "local_opening_balance"}
COLUMNS = [field.attribute for field in FIELDS if field.attribute not in COMPUTED]
SELECT = f"SELECT {', '.join(COLUMNS)} FROM customers_customer"
NAMES = [field.name for field in FIELDS if field.attribute not in COMPUTED]
SEARCHED = list(SEARCHED_ATTRIBUTES)
# Counterpart's search condition (customers/search.py): the document match its trigram index
# answers, and the exact per-column rule.
_DOCUMENT = " || ' ' || ".join(
    f"COALESCE({column}, '')" if column == "code" else column for column in SEARCHED
)
SEARCH = (
    f"UPPER(({_DOCUMENT})::text) LIKE UPPER(%(pattern)s) AND ("
    + " OR ".join(f"UPPER({column}::text) LIKE UPPER(%(pattern)s)" for column in SEARCHED)
    + ")"
)
AUTHENTICATE = """
    SELECT api_key.organization_id FROM authkeys_apikey api_key
    JOIN organizations_organization organization ON organization.id = api_key.organization_id
    LEFT JOIN organizations_user creator ON creator.id = api_key.created_by_id
    WHERE api_key.digest = %s AND api_key.revoked_at IS NULL
      AND (api_key.expires_at IS NULL OR api_key.expires_at > now())
      AND organization.is_active AND (creator.id IS NULL OR creator.is_active)
"""
ONE = re.compile(r"/api/customers/(\d{1,18})/?")
MILLI = Decimal("0.001")
_pool = None


def pool() -> ConnectionPool:
    global _pool
    if _pool is None:  # first request of this worker, after gunicorn has forked it
        url = os.environ["DATABASE_URL"]
        _pool = ConnectionPool(url, min_size=2, max_size=8, kwargs={"autocommit": True})
    return _pool


def number(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError


def customer(row) -> dict:
    result = dict(zip(NAMES, row, strict=True))
    result["closingBalance"] = result["balance"]
    result["localOpeningBalance"] = (
        result["openingBalance"] * result["openingBalanceExchangeRate"]
    ).quantize(MILLI)
    return result


def respond(start_response, status: str, payload) -> list[bytes]:
    body = orjson.dumps(payload, default=number, option=orjson.OPT_UTC_Z)
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


def application(environ, start_response):
    header = environ.get("HTTP_AUTHORIZATION", "")
    digest = hashlib.sha256(header.removeprefix("Bearer ").encode()).hexdigest()
    with pool().connection() as connection:
        found = connection.execute(AUTHENTICATE, [digest]).fetchone()
        if found is None:
            return respond(start_response, "401 Unauthorized", {"errors": [{"type": "AUTH"}]})
        organization_id = found[0]
        path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
        match = ONE.fullmatch(path)
        if match and method == "GET":
            row = connection.execute(
                f"{SELECT} WHERE id = %s AND organization_id = %s",
                [int(match[1]), organization_id],
            ).fetchone()
        elif match and method == "PUT":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = orjson.loads(environ["wsgi.input"].read(length))
            changes = {INPUT_SPELLINGS[key][0].attribute: value for key, value in body.items()}
            assignments = ", ".join(f"{column} = %({column})s" for column in changes)
            row = connection.execute(
                f"UPDATE customers_customer SET {assignments}, version = version + 1,"
                f" updated_at = now() WHERE id = %(id)s AND organization_id = %(organization)s"
                f" RETURNING {', '.join(COLUMNS)}",
                {**changes, "id": int(match[1]), "organization": organization_id},
            ).fetchone()
        elif path.rstrip("/") == "/api/customers" and method == "GET":
            return respond(start_response, "200 OK", page(connection, organization_id, environ))
        else:
            return respond(start_response, "405 Method Not Allowed", {"errors": []})
    if row is None:
        return respond(start_response, "404 Not Found", {"errors": [{"type": "NOT_FOUND"}]})
    return respond(start_response, "200 OK", customer(row))


def page(connection, organization_id: int, environ) -> dict:
    query = parse_qs(environ.get("QUERY_STRING", ""))
    number_, size = int(query.get("page", ["1"])[0]), int(query.get("pageSize", ["12"])[0])
    keyword = query.get("searchKeyword", [None])[0]
    where = "organization_id = %(organization)s" + (f" AND {SEARCH}" if keyword else "")
    params = {"organization": organization_id, "pattern": f"%{keyword}%"}
    rows = connection.execute(
        f"{SELECT} WHERE {where} ORDER BY created_at DESC, id DESC"
        f" LIMIT {size} OFFSET {(number_ - 1) * size}",
        params,
    ).fetchall()
    total = connection.execute(f"SELECT count(*) FROM customers_customer WHERE {where}", params)
    return {
        "customers": [customer(row) for row in rows],
        "pagination": {"page": number_, "pageSize": size, "total": total.fetchone()[0]},
        "filterMeta": {"columnSortBy": "createdAt", "sortOrder": "DESC", "searchKeyword": keyword},
    }
