"""Fixed-window request counters, shared by every server process, timed by the store's clock.

Each request is counted with one atomic statement in the shared store, which returns the count
and the seconds until the window ends: exact at any number of processes, and never more than the
limit served. A window opens with the first request after the last one ended and lasts `period`
seconds by the store's clock, never by the clock of the machine that asked, so a machine whose
clock is off neither splits a window nor ends one early:
- Redis (the default cache is Redis, `REDIS_URL`): one Lua script, INCR and the key's PTTL, with
  PEXPIRE by the request that creates the key. Redis expires the key by its own clock.
- the database (the default cache is the database cache, the default): one upsert on the counters'
  own table (`RateLimitCounter`, UNLOGGED on PostgreSQL) that restarts an ended window and returns
  the count and the seconds left. The database's clock: PostgreSQL's `statement_timestamp()`,
  SQLite's `'now'` (the same as Django's `Now()`, which reading and clearing the counters use).
- any other cache (process memory in the tests): `cache.add` and `cache.incr` on windows aligned
  to this process's clock, which is that store's clock; not for several machines.
A fixed window lets a client send up to twice the limit across a window boundary; in exchange a
request costs one counter and no list of timestamps (DRF's SimpleRateThrottle keeps a list).
"""

import functools
import logging
import math
import time
from dataclasses import dataclass
from datetime import timedelta

import redis
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache
from django.db import DatabaseError, connections, router
from django.db.models import DurationField, ExpressionWrapper, F
from django.db.models.functions import Now
from redis.commands.core import Script
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


def _key(name: str, rate: Rate) -> str:
    return f"ratelimit:{name}:{rate.period}"


def _seconds(left: float) -> int:
    # Windows end on a millisecond (SQLite keeps no finer); SQLite's julianday arithmetic is off
    # by tens of microseconds, which ceil alone would turn into a whole second more.
    return max(math.ceil(round(left, 3)), 1)


def count_request(name: str, rate: Rate) -> Usage:
    """Count one request against the counter `name`: its count after that, 0 if the counters
    cannot be reached."""
    try:
        count, reset = _count(_key(name, rate), rate.period)
    except COUNTER_STORE_DOWN as error:
        logger.warning("rate-limit counters unavailable, request not counted: %s", error)
        count, reset = 0, rate.period
    return Usage(limit=rate.limit, count=count, reset=_seconds(reset))


def peek(names: list[str], rate_by_name: dict[str, Rate]) -> list[Usage]:
    """Where several counters stand, without counting: one read."""
    keys = {name: _key(name, rate_by_name[name]) for name in names}
    try:
        found = _read({keys[name]: rate_by_name[name].period for name in names})
    except COUNTER_STORE_DOWN as error:
        logger.warning("rate-limit counters unavailable, nothing checked: %s", error)
        found = {}
    usages = []
    for name in names:
        rate = rate_by_name[name]
        count, reset = found.get(keys[name], (0, rate.period))
        usages.append(Usage(limit=rate.limit, count=count, reset=_seconds(reset)))
    return usages


def _count(key: str, period: int) -> tuple[int, float]:
    cache = caches["default"]
    if isinstance(cache, DatabaseCache):
        return _count_in_database(key, period)
    if isinstance(cache, RedisCache):
        return _count_in_redis(key, period)
    return _count_in_cache(cache, key, period)


def _read(period_by_key: dict[str, int]) -> dict[str, tuple[int, float]]:
    """The count of each counter whose window is open, and the seconds left in it."""
    cache = caches["default"]
    if isinstance(cache, DatabaseCache):
        return _read_database(list(period_by_key))
    if isinstance(cache, RedisCache):
        return _read_redis(list(period_by_key))
    return _read_cache(cache, period_by_key)


# The database: the counters' own table, rather than DatabaseCache.incr, which is a read then a
# write (six statements, racy between processes) and counts the whole cache table on every write.
# One upsert counts the request and restarts the window if it has ended, by the database's clock:
# `statement_timestamp()` is one moment for the whole statement (clock_timestamp() could change
# between the window's test and its new end), and SQLite's 'now' is one moment per statement too.
COUNT_SQL = {
    "postgresql": (
        "INSERT INTO authkeys_ratelimitcounter AS counter (name, count, expires_at) "
        "VALUES (%s, 1, statement_timestamp() + %s) "
        "ON CONFLICT (name) DO UPDATE SET "
        "count = CASE WHEN counter.expires_at > statement_timestamp() "
        "THEN counter.count + 1 ELSE 1 END, "
        "expires_at = CASE WHEN counter.expires_at > statement_timestamp() "
        "THEN counter.expires_at ELSE EXCLUDED.expires_at END "
        "RETURNING count, EXTRACT(EPOCH FROM expires_at - statement_timestamp())::float8"
    ),
    "sqlite": (
        "INSERT INTO authkeys_ratelimitcounter AS counter (name, count, expires_at) "
        "VALUES (%s, 1, strftime('%%Y-%%m-%%d %%H:%%M:%%f', 'now', %s)) "
        "ON CONFLICT (name) DO UPDATE SET "
        "count = CASE WHEN counter.expires_at > strftime('%%Y-%%m-%%d %%H:%%M:%%f', 'now') "
        "THEN counter.count + 1 ELSE 1 END, "
        "expires_at = CASE WHEN counter.expires_at > strftime('%%Y-%%m-%%d %%H:%%M:%%f', 'now') "
        "THEN counter.expires_at ELSE excluded.expires_at END "
        "RETURNING count, (julianday(expires_at) - julianday('now')) * 86400.0"
    ),
}


def _period_parameter(vendor: str, period: int):
    return timedelta(seconds=period) if vendor == "postgresql" else f"+{period} seconds"


def _count_in_database(key: str, period: int) -> tuple[int, float]:
    alias = router.db_for_write(RateLimitCounter)
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute(
            COUNT_SQL[connection.vendor], [key, _period_parameter(connection.vendor, period)]
        )
        count, left = cursor.fetchone()
    if count == 1:  # this request opened a window
        _clear_ended_windows(alias)
    return count, left


def _read_database(keys: list[str]) -> dict[str, tuple[int, float]]:
    left = ExpressionWrapper(F("expires_at") - Now(), output_field=DurationField())
    rows = (
        RateLimitCounter.objects.filter(name__in=keys, expires_at__gt=Now())
        .annotate(left=left)
        .values_list("name", "count", "left")
    )
    return {name: (count, left.total_seconds()) for name, count, left in rows}


# An ended window's row is restarted in place by its next request; the rows of counters nobody
# counts any more (a revoked key, a sign-in guesser gone) are garbage. A process clears them when
# it opens a window, at most once every CLEAR_EVERY seconds: windows open once a minute per
# credential, so with many keys clearing at every opening would be a DELETE every few dozen
# requests. "Ended" is by the database's clock (`Now()`), like the windows themselves.
CLEAR_EVERY = 10.0
_last_cleared = float("-inf")  # time.monotonic() of this process's last clearing


def _clear_ended_windows(alias: str) -> None:
    global _last_cleared
    moment = time.monotonic()
    if moment - _last_cleared < CLEAR_EVERY:
        return
    _last_cleared = moment  # (two threads clearing at once delete the same rows: harmless)
    RateLimitCounter.objects.using(alias).filter(expires_at__lt=Now()).delete()


# Redis: one script, so that counting is one round trip and atomic. The key that INCR creates has
# no expiry (PTTL -1): the script gives it the window's, so the window starts when Redis created
# the key, by Redis's clock, and Redis deletes the key when it ends.
COUNT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1])
end
return {count, left}
"""


@functools.cache
def _redis(location: str) -> tuple[redis.Redis, Script]:
    # Django's RedisCache has no public way to its client: the counters get their own, on the
    # server that cache writes to (the first in LOCATION), with the cache's KEY_PREFIX.
    client = redis.Redis.from_url(location)
    return client, client.register_script(COUNT_SCRIPT)


def _redis_key(key: str) -> tuple[redis.Redis, Script, str]:
    cache_settings = settings.CACHES["default"]
    location = cache_settings["LOCATION"]
    if isinstance(location, str):
        location = location.replace(";", ",").split(",")
    client, script = _redis(location[0])
    prefix = cache_settings.get("KEY_PREFIX", "")
    return client, script, f"{prefix}:{key}" if prefix else key


def _count_in_redis(key: str, period: int) -> tuple[int, float]:
    _, script, full_key = _redis_key(key)
    count, left = script(keys=[full_key], args=[period * 1000])
    return int(count), int(left) / 1000


def _read_redis(keys: list[str]) -> dict[str, tuple[int, float]]:
    if not keys:
        return {}
    pipeline = None
    for key in keys:
        client, _, full_key = _redis_key(key)
        pipeline = pipeline or client.pipeline(transaction=False)
        pipeline.get(full_key)
        pipeline.pttl(full_key)
    replies = pipeline.execute()
    return {
        key: (int(count), int(left) / 1000)
        for key, count, left in zip(keys, replies[::2], replies[1::2], strict=True)
        if count is not None and left > 0
    }


# Any other cache: windows aligned to this process's clock, named by their number.
def _window(key: str, period: int, now: float) -> tuple[str, float]:
    number = int(now // period)
    return f"{key}:{number}", (number + 1) * period - now


def _count_in_cache(cache, key: str, period: int) -> tuple[int, float]:
    window, left = _window(key, period, time.time())
    try:
        return cache.incr(window), left
    except ValueError:  # the first request of the window
        if cache.add(window, 1, math.ceil(left) + 1):
            return 1, left
        return cache.incr(window), left  # another thread opened the window first


def _read_cache(cache, period_by_key: dict[str, int]) -> dict[str, tuple[int, float]]:
    now = time.time()
    windows = {key: _window(key, period, now) for key, period in period_by_key.items()}
    counts = cache.get_many([window for window, _ in windows.values()])
    return {
        key: (int(counts[window]), left)
        for key, (window, left) in windows.items()
        if window in counts
    }
