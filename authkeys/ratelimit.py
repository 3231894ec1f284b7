"""Fixed-window request counters, shared by every server process through Django's cache.

A window is `period` seconds long and aligned to the clock, so every process names the same
counter for the same moment without talking to the others. Counting is one increment per request:
- Redis (`REDIS_URL`): one `INCR` (and an `EXPIRE` by the request that opens the window).
- the database cache (the default): one upsert on the counters' own table (`RateLimitCounter`,
  UNLOGGED on PostgreSQL), not DatabaseCache.incr, which is a read and a write. On PostgreSQL a
  lookup can run the upsert inside its own statement (`database_charge`): the API-key lookup
  does, so that finding the key and counting its request is one round trip.
- any other cache (process memory in the tests): `cache.incr`, and `cache.add` to open a window.
A fixed window lets a client send up to twice the limit across a window boundary; in exchange a
request costs one counter and no list of timestamps (DRF's SimpleRateThrottle keeps a list).
"""

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache
from django.db import DatabaseError, connections, router
from django.utils import timezone
from redis.exceptions import RedisError
from rest_framework.settings import api_settings

from .models import RateLimitCounter

logger = logging.getLogger(__name__)

# A counter store that cannot be reached must not take the API down with it: requests are let
# through uncounted (fail open) and the outage is logged. The API's own data is elsewhere.
COUNTER_STORE_DOWN = (RedisError, DatabaseError, OSError)

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Rate:
    limit: int
    period: int  # seconds

    @classmethod
    def for_scope(cls, scope: str) -> "Rate":
        """The rate named in REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], e.g. "600/minute"."""
        count, _, period = api_settings.DEFAULT_THROTTLE_RATES[scope].partition("/")
        return cls(limit=int(count), period=_PERIODS[period.strip()[0]])


@dataclass(frozen=True)
class Usage:
    """Where one counter stands after a request: for the RateLimit-* headers and Retry-After."""

    limit: int
    count: int
    reset: int  # seconds until the window ends

    @property
    def remaining(self) -> int:
        return max(self.limit - self.count, 0)

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit


def _window_parts(name: str, rate: Rate, now: float) -> tuple[str, str, int]:
    """The counter's key, `name` in the middle, split there; and the seconds left in the window."""
    window = int(now // rate.period)
    reset = max(int((window + 1) * rate.period - now), 1)
    return f"ratelimit:{name}", f":{rate.period}:{window}", reset


def _window(name: str, rate: Rate, now: float) -> tuple[str, int]:
    before, after, reset = _window_parts(name, rate, now)
    return before + after, reset


def charge(name: str, rate: Rate, now: float | None = None) -> Usage:
    """Count one request against the counter `name`."""
    key, reset = _window(name, rate, time.time() if now is None else now)
    try:
        count = _increment(key, timeout=reset + 1)
    except COUNTER_STORE_DOWN as error:
        logger.warning("rate-limit counters unavailable, request not counted: %s", error)
        count = 0
    return Usage(limit=rate.limit, count=count, reset=reset)


def peek(names: list[str], rate_by_name: dict[str, Rate], now: float | None = None) -> list[Usage]:
    """Where several counters stand, without counting: one `get_many`."""
    now = time.time() if now is None else now
    windows = [_window(name, rate_by_name[name], now) for name in names]
    try:
        counts = _counts([key for key, _ in windows])
    except COUNTER_STORE_DOWN as error:
        logger.warning("rate-limit counters unavailable, nothing checked: %s", error)
        counts = {}
    return [
        Usage(limit=rate_by_name[name].limit, count=int(counts.get(key, 0)), reset=reset)
        for name, (key, reset) in zip(names, windows, strict=True)
    ]


def _counts(keys: list[str]) -> dict[str, int]:
    if isinstance(caches["default"], DatabaseCache):
        return dict(RateLimitCounter.objects.filter(name__in=keys).values_list("name", "count"))
    return caches["default"].get_many(keys)


def _increment(key: str, timeout: int) -> int:
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        return _increment_redis(cache, key, timeout)
    if isinstance(cache, DatabaseCache):
        return _increment_in_database(key, timeout)
    try:
        return cache.incr(key)
    except ValueError:  # the first request of the window
        if cache.add(key, 1, timeout):
            return 1
        return cache.incr(key)  # another process opened the window first


def _increment_redis(cache: RedisCache, key: str, timeout: int) -> int:
    # Django's RedisCache.incr asks EXISTS first: two round trips. A bare INCR is one, and the
    # expiry is set by whoever opens the window (a second command once per window). Should that
    # second command never arrive, the counter lingers unexpired but is never read again: its
    # name holds the window's number. Django stores integers as plain Redis integers, so INCR
    # sees the same value cache.get does.
    full_key = cache.make_and_validate_key(key)
    client = cache._cache.get_client(full_key, write=True)
    count = client.incr(full_key)
    if count == 1:
        client.expire(full_key, timeout)
    return count


def upsert_sql(name: str = "%s", rows: str = "") -> str:
    """The statement that counts one request in the database store: it returns the new count.

    Its parameters: those of `name`, the SQL expression that names the counter, then the
    counter's expiry. `rows` ("FROM …") counts once per row it yields, so not at all when it
    yields none; without it the statement counts once.
    """
    table = RateLimitCounter._meta.db_table
    return (
        f"INSERT INTO {table} (name, count, expires_at) SELECT {name}, 1, %s{rows} "
        f"ON CONFLICT (name) DO UPDATE SET count = {table}.count + 1 RETURNING count"
    )


def _increment_in_database(key: str, timeout: int) -> int:
    # With the database cache configured, counters go to their own table rather than through
    # DatabaseCache.incr, which is a read then a write (six statements, racy between processes)
    # and counts the whole cache table on every write. Here one atomic upsert counts a request;
    # the request that opens a window also clears the windows that have ended.
    connection = connections[router.db_for_write(RateLimitCounter)]
    now = timezone.now()
    expires_at = connection.ops.adapt_datetimefield_value(now + timedelta(seconds=timeout))
    with connection.cursor() as cursor:
        cursor.execute(upsert_sql(), [key, expires_at])
        count = cursor.fetchone()[0]
    if count == 1:
        _clear_ended_windows(connection, now)
    return count


def _clear_ended_windows(connection, now: datetime) -> None:
    table = RateLimitCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE expires_at < %s",  # noqa: S608
            [connection.ops.adapt_datetimefield_value(now)],
        )


@dataclass(frozen=True)
class DatabaseCharge:
    """One request to count in the database store by a statement of the caller's own.

    For a lookup that finds the row whose id names the counter: the lookup and the count become
    one statement, one round trip (`authkeys.lookups.CompiledLookup.get_charging`). The counter
    is `name_prefix` + that id, the same counter `charge(name_prefix + id)` counts in.
    """

    alias: str  # the database that keeps the counters
    rate: Rate
    before: str
    after: str
    reset: int
    now: datetime

    def sql(self, id_sql: str, rows: str) -> str:
        """The upsert, counting once per row of `rows` in the counter named by `id_sql`."""
        return upsert_sql(f"%s || {id_sql} || %s", rows)

    def params(self) -> list:
        expires_at = self.now + timedelta(seconds=self.reset + 1)
        return [self.before, self.after, expires_at]

    def usage(self, count: int) -> Usage:
        """Where the counter stands after the statement counted the request (`count`)."""
        if count == 1:  # this request opened the window
            try:
                _clear_ended_windows(connections[self.alias], self.now)
            except COUNTER_STORE_DOWN as error:
                logger.warning("rate-limit counters: ended windows not cleared: %s", error)
        return Usage(limit=self.rate.limit, count=count, reset=self.reset)


def database_charge(
    name_prefix: str, rate: Rate, now: float | None = None
) -> DatabaseCharge | None:
    """A `DatabaseCharge`, when the counters are kept in a PostgreSQL database; otherwise None.

    Only PostgreSQL runs an upsert inside another statement (a data-modifying WITH).
    """
    if not isinstance(caches["default"], DatabaseCache):
        return None
    alias = router.db_for_write(RateLimitCounter)
    if connections[alias].vendor != "postgresql":
        return None
    before, after, reset = _window_parts(name_prefix, rate, time.time() if now is None else now)
    return DatabaseCharge(
        alias=alias, rate=rate, before=before, after=after, reset=reset, now=timezone.now()
    )
