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

A credential's requests are counted in leases (`Leases`, used by throttling.find_and_count): a
process adds a few requests at once to the shared counter and hands those out to its next
requests of that credential without writing, so most requests write nothing. A lease is small
beside what is left of the limit (at most a 64th of it, at most 32 requests), so it shrinks to
one request, counted exactly, as a credential nears its limit; and since every request is counted
in the shared counter before it is served, all processes together never let more than the limit
through. What a lease can cost a client is the other way: requests another process has reserved
and not yet served count as made, in RateLimit-Remaining and towards the limit (at most a 64th of
what was left, per process).
"""

import logging
import threading
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


def charge(name: str, rate: Rate, now: float | None = None, *, amount: int = 1) -> Usage:
    """Count one request (or `amount` of them) against the counter `name`: its count after that,
    0 if the counters cannot be reached."""
    key, reset = _window(name, rate, time.time() if now is None else now)
    try:
        count = _increment(key, timeout=reset + 1, amount=amount)
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


def _increment(key: str, timeout: int, amount: int) -> int:
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        return _increment_redis(cache, key, timeout, amount)
    if isinstance(cache, DatabaseCache):
        return _increment_in_database(key, timeout, amount)
    try:
        return cache.incr(key, amount)
    except ValueError:  # the first request of the window
        if cache.add(key, amount, timeout):
            return amount
        return cache.incr(key, amount)  # another process opened the window first


def _increment_redis(cache: RedisCache, key: str, timeout: int, amount: int) -> int:
    # Django's RedisCache.incr asks EXISTS first: two round trips. A bare INCR is one, and the
    # expiry is set by whoever opens the window (a second command once per window). Should that
    # second command never arrive, the counter lingers unexpired but is never read again: its
    # name holds the window's number. Django stores integers as plain Redis integers, so INCR
    # sees the same value cache.get does.
    full_key = cache.make_and_validate_key(key)
    client = cache._cache.get_client(full_key, write=True)
    count = client.incr(full_key, amount)
    if count == amount:
        client.expire(full_key, timeout)
    return count


def upsert_sql(name: str = "%s", rows: str = "") -> str:
    """The statement that counts requests in the database store: it returns the new count.

    Its parameters: those of `name`, the SQL expression that names the counter, then how many
    requests to count, then the counter's expiry. `rows` ("FROM …") counts once per row it
    yields, so not at all when it yields none; without it the statement counts once.
    """
    table = RateLimitCounter._meta.db_table
    return (
        f"INSERT INTO {table} (name, count, expires_at) SELECT {name}, %s, %s{rows} "
        f"ON CONFLICT (name) DO UPDATE SET count = {table}.count + EXCLUDED.count RETURNING count"
    )


def _increment_in_database(key: str, timeout: int, amount: int) -> int:
    # With the database cache configured, counters go to their own table rather than through
    # DatabaseCache.incr, which is a read then a write (six statements, racy between processes)
    # and counts the whole cache table on every write. Here one atomic upsert counts a request;
    # the request that opens a window may clear the windows that have ended.
    connection = connections[router.db_for_write(RateLimitCounter)]
    now = timezone.now()
    expires_at = connection.ops.adapt_datetimefield_value(now + timedelta(seconds=timeout))
    with connection.cursor() as cursor:
        cursor.execute(upsert_sql(), [key, amount, expires_at])
        count = cursor.fetchone()[0]
    if count == amount:
        _clear_ended_windows(connection, now)
    return count


# Ended windows are garbage (a counter's name holds its window: none is read again). A process
# clears them when it opens a window, at most once every CLEAR_EVERY seconds: windows open once a
# minute per credential, so with many keys, each used a few times a minute, clearing at every
# opening was a DELETE every few dozen requests, and more keys made more of them.
CLEAR_EVERY = 10.0
_last_cleared = float("-inf")  # time.monotonic() of this process's last clearing


def _clear_ended_windows(connection, now: datetime) -> None:
    global _last_cleared
    moment = time.monotonic()
    if moment - _last_cleared < CLEAR_EVERY:
        return
    _last_cleared = moment  # (two threads clearing at once delete the same rows: harmless)
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
    amount: int = 1  # requests to count

    def sql(self, id_sql: str, rows: str) -> str:
        """The upsert, counting once per row of `rows` in the counter named by `id_sql`."""
        return upsert_sql(f"%s || {id_sql} || %s", rows)

    def params(self) -> list:
        expires_at = self.now + timedelta(seconds=self.reset + 1)
        return [self.before, self.after, self.amount, expires_at]

    def usage(self, count: int) -> Usage:
        """Where the counter stands after the statement counted the requests (`count`)."""
        if count == self.amount:  # this statement opened the window
            try:
                _clear_ended_windows(connections[self.alias], self.now)
            except COUNTER_STORE_DOWN as error:
                logger.warning("rate-limit counters: ended windows not cleared: %s", error)
        return Usage(limit=self.rate.limit, count=count, reset=self.reset)


def counted_in_transaction() -> bool:
    """Whether a count now would be part of a transaction still open (so it could be rolled back):
    the counters are in the database, and a transaction is open there."""
    if not isinstance(caches["default"], DatabaseCache):
        return False
    # The transactions a test case wraps each test in are not the application's: Django's own
    # check for durable blocks passes over them the same way.
    blocks = connections[router.db_for_write(RateLimitCounter)].atomic_blocks
    return any(not block._from_testcase for block in blocks)


def database_charge(
    name_prefix: str, rate: Rate, now: float | None = None, *, amount: int = 1
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
        alias=alias,
        rate=rate,
        before=before,
        after=after,
        reset=reset,
        now=timezone.now(),
        amount=amount,
    )


LEASE_MAX = 32  # requests
LEASE_SHARE = 64  # a lease is at most this fraction of what is left of the limit


@dataclass
class _Lease:
    window: str  # the part of the counter's key that names the window
    counter: str  # the counter's name: the prefix and the id of the credential
    last: int  # the highest count this process has seen the counter reach in the window
    # The requests counted and not yet made, as [next, last] ranges of places in the window: more
    # than one when threads of this process counted new leases at the same time.
    ranges: list[list[int]]


class Leases:
    """This process's leases of requests, one per credential: see the module's docstring.

    A lease is held for a `holder`, the credential's lookup (the counter's prefix, the rate and
    the lookup's parameters: an API key's digest, a user's id and organization), because the
    counter is named by the id the lookup finds, which is not known before it runs.
    """

    MAX_HELD = 10_000  # beyond this many, the leases are dropped

    def __init__(self):
        self._lock = threading.Lock()
        self._held: dict[tuple, _Lease] = {}

    def take(self, holder: tuple, rate: Rate, now: float) -> tuple[str, Usage] | None:
        """A request from `holder`'s lease in the current window, if one is left: the counter's
        name and where the request stands. None: count with a new lease (`size`, `grant`)."""
        _, window, reset = _window_parts("", rate, now)
        with self._lock:
            lease = self._held.get(holder)
            if lease is None or lease.window != window:
                return None
            while lease.ranges and lease.ranges[0][0] > lease.ranges[0][1]:
                lease.ranges.pop(0)
            if not lease.ranges:
                return None
            count = lease.ranges[0][0]
            lease.ranges[0][0] += 1
        return lease.counter, Usage(limit=rate.limit, count=count, reset=reset)

    def size(self, holder: tuple, rate: Rate, now: float) -> int:
        """How many requests the next lease of `holder` counts at once: a share of what is left
        of the limit by the last count this process saw, one near the limit, the most when the
        limit is exceeded (every request of the window is refused then, each still counted)."""
        _, window, _ = _window_parts("", rate, now)
        lease = self._held.get(holder)
        counted = lease.last if lease is not None and lease.window == window else 0
        if counted >= rate.limit:
            return LEASE_MAX
        return max(1, min(LEASE_MAX, (rate.limit - counted) // LEASE_SHARE))

    def grant(
        self, holder: tuple, rate: Rate, counter: str, usage: Usage, amount: int, now: float
    ) -> Usage:
        """Hold the `amount` requests just counted in `counter` (`usage`: its count after that)
        as `holder`'s lease; the first is this request's, returned. Nothing is held if the count
        failed (0: the counters could not be reached, so the request went uncounted)."""
        if usage.count == 0:
            return usage
        first = usage.count - amount + 1
        _, window, _ = _window_parts("", rate, now)
        with self._lock:
            lease = self._held.get(holder)
            if lease is None or lease.window != window or lease.counter != counter:
                if len(self._held) >= self.MAX_HELD:
                    # A dropped lease only leaves its unused requests counted as made.
                    self._held.clear()
                lease = self._held[holder] = _Lease(window, counter, last=0, ranges=[])
            lease.last = max(lease.last, usage.count)
            if amount > 1:
                lease.ranges.append([first + 1, usage.count])
        return Usage(limit=usage.limit, count=first, reset=usage.reset)

    def clear(self) -> None:
        with self._lock:
            self._held.clear()


LEASES = Leases()
