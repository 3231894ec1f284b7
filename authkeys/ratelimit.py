"""Fixed-window request counters, shared by every server process through Django's cache.

A window is `period` seconds long and aligned to the clock, so every process names the same
counter for the same moment without talking to the others. Counting adds to one counter:
- Redis (`REDIS_URL`): `cache.incr`, an INCR there; the request that opens the window adds the
  counter with the window's expiry (`cache.add`).
- the database cache (the default): one upsert on the counters' own table (`RateLimitCounter`,
  UNLOGGED on PostgreSQL), not DatabaseCache.incr, which is a read and a write.
- any other cache (process memory in the tests): `cache.incr` and `cache.add`, as for Redis.
A fixed window lets a client send up to twice the limit across a window boundary; in exchange a
request costs one counter and no list of timestamps (DRF's SimpleRateThrottle keeps a list).

A credential's requests are counted in leases (`Leases`, used by `count_request`): a process adds
a few requests at once to the shared counter and hands those out to its next requests of that
credential without writing, so most requests write nothing. A lease is small beside what is left
of the limit (at most a 64th of it, at most 32 requests), so it shrinks to one request, counted
exactly, as a credential nears its limit; and since every request is counted in the shared
counter before it is served, all processes together never let more than the limit through. What
a lease can cost a client is the other way: requests another process has reserved and not yet
served count as made, in RateLimit-Remaining and towards the limit (at most a 64th of what was
left, per process).
"""

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.db import DatabaseError, connections, router, transaction
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


def _window(rate: Rate, now: float) -> tuple[tuple[int, int], int]:
    """The window `now` falls in (its period and number), and the seconds left in it."""
    number = int(now // rate.period)
    return (rate.period, number), max(int((number + 1) * rate.period - now), 1)


def _key(name: str, window: tuple[int, int]) -> str:
    period, number = window
    return f"ratelimit:{name}:{period}:{number}"


def charge(name: str, rate: Rate, now: float | None = None, *, amount: int = 1) -> Usage:
    """Count one request (or `amount` of them) against the counter `name`: its count after that,
    0 if the counters cannot be reached."""
    window, reset = _window(rate, time.time() if now is None else now)
    key = _key(name, window)
    try:
        count = _increment(key, timeout=reset + 1, amount=amount)
    except COUNTER_STORE_DOWN as error:
        logger.warning("rate-limit counters unavailable, request not counted: %s", error)
        count = 0
    return Usage(limit=rate.limit, count=count, reset=reset)


def peek(names: list[str], rate_by_name: dict[str, Rate], now: float | None = None) -> list[Usage]:
    """Where several counters stand, without counting: one `get_many`."""
    now = time.time() if now is None else now
    windows = [_window(rate_by_name[name], now) for name in names]
    keys = [_key(name, window) for name, (window, _) in zip(names, windows, strict=True)]
    try:
        counts = _counts(keys)
    except COUNTER_STORE_DOWN as error:
        logger.warning("rate-limit counters unavailable, nothing checked: %s", error)
        counts = {}
    return [
        Usage(limit=rate_by_name[name].limit, count=int(counts.get(key, 0)), reset=reset)
        for name, key, (_, reset) in zip(names, keys, windows, strict=True)
    ]


def _counts(keys: list[str]) -> dict[str, int]:
    if isinstance(caches["default"], DatabaseCache):
        return dict(RateLimitCounter.objects.filter(name__in=keys).values_list("name", "count"))
    return caches["default"].get_many(keys)


def _increment(key: str, timeout: int, amount: int) -> int:
    cache = caches["default"]
    if isinstance(cache, DatabaseCache):
        return _increment_in_database(key, timeout, amount)
    # Redis (`cache.incr` is an INCR there) and process memory. The request that opens a window
    # adds its counter with the window's expiry; should the counter expire between `incr`'s check
    # and its increment, it comes back without an expiry, but is never read again: its name holds
    # its window.
    try:
        return cache.incr(key, amount)
    except ValueError:  # the first request of the window
        if cache.add(key, amount, timeout):
            return amount
        return cache.incr(key, amount)  # another process opened the window first


# The counters' table: one atomic upsert counts and returns the new count.
COUNT_SQL = (
    "INSERT INTO authkeys_ratelimitcounter (name, count, expires_at) VALUES (%s, %s, %s) "
    "ON CONFLICT (name) DO UPDATE SET count = authkeys_ratelimitcounter.count + EXCLUDED.count "
    "RETURNING count"
)


def _increment_in_database(key: str, timeout: int, amount: int) -> int:
    # With the database cache configured, counters go to their own table rather than through
    # DatabaseCache.incr, which is a read then a write (six statements, racy between processes)
    # and counts the whole cache table on every write. The request that opens a window may clear
    # the windows that have ended.
    alias = router.db_for_write(RateLimitCounter)
    connection = connections[alias]
    now = timezone.now()
    expires_at = RateLimitCounter._meta.get_field("expires_at").get_db_prep_value(
        now + timedelta(seconds=timeout), connection
    )
    with connection.cursor() as cursor:
        cursor.execute(COUNT_SQL, [key, amount, expires_at])
        count = cursor.fetchone()[0]
    if count == amount:
        _clear_ended_windows(alias, now)
    return count


# Ended windows are garbage (a counter's name holds its window: none is read again). A process
# clears them when it opens a window, at most once every CLEAR_EVERY seconds: windows open once a
# minute per credential, so with many keys clearing at every opening would be a DELETE every few
# dozen requests, and more keys would make more of them.
CLEAR_EVERY = 10.0
_last_cleared = float("-inf")  # time.monotonic() of this process's last clearing


def _clear_ended_windows(alias: str, now: datetime) -> None:
    global _last_cleared
    moment = time.monotonic()
    if moment - _last_cleared < CLEAR_EVERY:
        return
    _last_cleared = moment  # (two threads clearing at once delete the same rows: harmless)
    RateLimitCounter.objects.using(alias).filter(expires_at__lt=now).delete()


def counted_in_transaction() -> bool:
    """Whether a count now would be part of a transaction still open (so it could be rolled back):
    the counters are in the database, and a transaction is open there."""
    if not isinstance(caches["default"], DatabaseCache):
        return False
    try:
        return not transaction.get_autocommit(using=router.db_for_write(RateLimitCounter))
    except COUNTER_STORE_DOWN:  # no connection: the count that follows fails, and says so
        return True


def count_request(name: str, rate: Rate, now: float | None = None) -> Usage:
    """Count one request against the counter `name`: from this process's lease of its requests
    while one is left (nothing written), otherwise with a new lease counted in the shared counter.

    A count in a transaction that may yet roll back reserves nothing to hold: one request.
    """
    now = time.time() if now is None else now
    usage = LEASES.take(name, rate, now)
    if usage is not None:
        return usage
    amount = 1 if counted_in_transaction() else LEASES.size(name, rate, now)
    return LEASES.grant(name, rate, charge(name, rate, now, amount=amount), amount, now)


LEASE_MAX = 32  # requests
LEASE_SHARE = 64  # a lease is at most this fraction of what is left of the limit


@dataclass
class _Lease:
    window: tuple[int, int]  # the window's period and number
    last: int  # the highest count this process has seen the counter reach in the window
    # The requests counted and not yet made, as [next, last] ranges of places in the window: more
    # than one when threads of this process counted new leases at the same time.
    ranges: list[list[int]]


class Leases:
    """This process's leases of requests, one per counter: see the module's docstring."""

    MAX_HELD = 10_000  # beyond this many, the leases are dropped

    def __init__(self):
        self._lock = threading.Lock()
        self._held: dict[str, _Lease] = {}

    def take(self, name: str, rate: Rate, now: float) -> Usage | None:
        """A request from the lease of counter `name` in the current window, if one is left:
        where the request stands. None: count with a new lease (`size`, `grant`)."""
        window, reset = _window(rate, now)
        with self._lock:
            lease = self._held.get(name)
            if lease is None or lease.window != window:
                return None
            while lease.ranges and lease.ranges[0][0] > lease.ranges[0][1]:
                lease.ranges.pop(0)
            if not lease.ranges:
                return None
            count = lease.ranges[0][0]
            lease.ranges[0][0] += 1
        return Usage(limit=rate.limit, count=count, reset=reset)

    def size(self, name: str, rate: Rate, now: float) -> int:
        """How many requests the next lease of counter `name` counts at once: a share of what is
        left of the limit by the last count this process saw, one near the limit, the most when
        the limit is exceeded (every request of the window is refused then, each still counted)."""
        window, _ = _window(rate, now)
        lease = self._held.get(name)
        counted = lease.last if lease is not None and lease.window == window else 0
        if counted >= rate.limit:
            return LEASE_MAX
        return max(1, min(LEASE_MAX, (rate.limit - counted) // LEASE_SHARE))

    def grant(self, name: str, rate: Rate, usage: Usage, amount: int, now: float) -> Usage:
        """Hold the `amount` requests just counted in counter `name` (`usage`: its count after
        that) as its lease; the first is this request's, returned. Nothing is held if the count
        failed (0: the counters could not be reached, so the request went uncounted)."""
        if usage.count == 0:
            return usage
        first = usage.count - amount + 1
        window, _ = _window(rate, now)
        with self._lock:
            lease = self._held.get(name)
            if lease is None or lease.window != window:
                if len(self._held) >= self.MAX_HELD:
                    # A dropped lease only leaves its unused requests counted as made.
                    self._held.clear()
                lease = self._held[name] = _Lease(window, last=0, ranges=[])
            lease.last = max(lease.last, usage.count)
            if amount > 1:
                lease.ranges.append([first + 1, usage.count])
        return Usage(limit=usage.limit, count=first, reset=usage.reset)

    def clear(self) -> None:
        with self._lock:
            self._held.clear()


LEASES = Leases()
