"""The authentication path's two lookups, each one statement of literal SQL.

Every API request finds its credential, so these run on every request: written out once here, they
are not compiled from a queryset each time. Each returns what its `select_related` queryset would
(tests/authkeys/test_queries.py holds them to that): the row's instance built by `Model.from_db`,
the joined rows' instances attached through the foreign keys' descriptors, so that reading
`api_key.organization` runs no query.

The column lists are the models' fields in their declared order, which `from_db` expects of a
full row. On PostgreSQL the statements are prepared after a few runs on a connection (psycopg's
`prepare_threshold`), so the server plans each once per connection.
"""

from datetime import UTC, datetime

from django.db import connections, router

from organizations.models import Membership, Organization, User

from .models import ApiKey

API_KEY_FIELDS = (
    "id",
    "organization_id",
    "name",
    "prefix",
    "digest",
    "created_by_id",
    "created_at",
    "last_used_at",
    "expires_at",
    "revoked_at",
    "response_casing",
)
MEMBERSHIP_FIELDS = ("id", "organization_id", "user_id", "role", "is_active", "created_at")
ORGANIZATION_FIELDS = (
    "id",
    "name",
    "base_currency",
    "is_active",
    "created_at",
    "updated_at",
    "response_casing",
    "delivers_webhooks",
    "phone_region",
    "reject_possible_duplicates",
)
USER_FIELDS = (
    "id",
    "password",
    "last_login",
    "is_superuser",
    "email",
    "name",
    "is_active",
    "is_staff",
    "date_joined",
)

API_KEY_BY_DIGEST = """
SELECT k.id, k.organization_id, k.name, k.prefix, k.digest, k.created_by_id,
       k.created_at, k.last_used_at, k.expires_at, k.revoked_at, k.response_casing,
       o.id, o.name, o.base_currency, o.is_active, o.created_at, o.updated_at, o.response_casing,
       o.delivers_webhooks, o.phone_region, o.reject_possible_duplicates,
       u.id, u.password, u.last_login, u.is_superuser, u.email, u.name,
       u.is_active, u.is_staff, u.date_joined
FROM authkeys_apikey k
JOIN organizations_organization o ON o.id = k.organization_id
LEFT JOIN organizations_user u ON u.id = k.created_by_id
WHERE k.digest = %s
"""

MEMBERSHIP_BY_USER_AND_ORGANIZATION = """
SELECT m.id, m.organization_id, m.user_id, m.role, m.is_active, m.created_at,
       u.id, u.password, u.last_login, u.is_superuser, u.email, u.name,
       u.is_active, u.is_staff, u.date_joined,
       o.id, o.name, o.base_currency, o.is_active, o.created_at, o.updated_at, o.response_casing,
       o.delivers_webhooks, o.phone_region, o.reject_possible_duplicates
FROM organizations_membership m
JOIN organizations_user u ON u.id = m.user_id
JOIN organizations_organization o ON o.id = m.organization_id
WHERE m.user_id = %s AND m.organization_id = %s
"""


def api_key_by_digest(digest: str) -> ApiKey | None:
    """The key with this digest, with its organization and its creator (None for a key without
    one): `ApiKey.objects.select_related("organization", "created_by").get(digest=digest)`."""
    alias = router.db_for_read(ApiKey)
    row = _fetch_one(alias, API_KEY_BY_DIGEST, [digest])
    if row is None:
        return None
    api_key, organization, creator = _split(row, API_KEY_FIELDS, ORGANIZATION_FIELDS, USER_FIELDS)
    api_key = ApiKey.from_db(alias, API_KEY_FIELDS, api_key)
    api_key.organization = Organization.from_db(alias, ORGANIZATION_FIELDS, organization)
    api_key.created_by = None if creator[0] is None else User.from_db(alias, USER_FIELDS, creator)
    return api_key


def membership_of(user_id: int, organization_id: int) -> Membership | None:
    """The user's membership of the organization, with both: `Membership.objects
    .select_related("user", "organization").get(user_id=…, organization_id=…)`."""
    alias = router.db_for_read(Membership)
    row = _fetch_one(alias, MEMBERSHIP_BY_USER_AND_ORGANIZATION, [user_id, organization_id])
    if row is None:
        return None
    membership, user, organization = _split(
        row, MEMBERSHIP_FIELDS, USER_FIELDS, ORGANIZATION_FIELDS
    )
    membership = Membership.from_db(alias, MEMBERSHIP_FIELDS, membership)
    membership.user = User.from_db(alias, USER_FIELDS, user)
    membership.organization = Organization.from_db(alias, ORGANIZATION_FIELDS, organization)
    return membership


def _fetch_one(alias: str, sql: str, params: list) -> tuple | None:
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _split(row: tuple, *field_lists: tuple[str, ...]) -> list[list]:
    """The row cut into one list of values per model, `field_lists` giving each model's fields.

    PostgreSQL hands timestamps back aware, in UTC (the connection's time zone under USE_TZ);
    SQLite hands them back naive, and Django stores them there in UTC: they are made aware here,
    as the ORM's converters would make them.
    """
    values = [
        value.replace(tzinfo=UTC) if isinstance(value, datetime) and value.tzinfo is None else value
        for value in row
    ]
    parts, start = [], 0
    for fields in field_lists:
        parts.append(values[start : start + len(fields)])
        start += len(fields)
    return parts
