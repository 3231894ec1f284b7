"""Rate limits: requests per credential, and failed sign-ins per email and per client address."""

import hashlib
import time

from django.db.models import Model
from rest_framework.throttling import BaseThrottle

from organizations.models import UserManager

from . import ratelimit
from .lookups import CompiledLookup

# Each credential's counter is named by its kind and its id; the rates are scopes of
# REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"].
API_KEY_COUNTER, API_KEY_SCOPE = "key:", "api_key"
USER_COUNTER, USER_SCOPE = "user:", "user"


def find_and_count(
    lookup: CompiledLookup, *params, counter: str, scope: str, id_field: str
) -> tuple[Model | None, ratelimit.Usage | None]:
    """`lookup.get(*params)`, and one request counted against the counter `counter` + the
    found row's `id_field`, when a row is found.

    The request is counted in this process's lease of that credential's requests
    (`ratelimit.Leases`) while one is left: then the lookup runs alone and nothing is written.
    Otherwise a new lease is counted in the shared counter. Where the counters are kept in the
    same PostgreSQL database, that count is part of the lookup's statement
    (`CompiledLookup.get_charging`): one round trip. Elsewhere (Redis, process memory, SQLite)
    it follows the lookup.
    """
    rate = ratelimit.Rate.for_scope(scope)
    now = time.time()
    holder = (counter, rate, *params)
    leased = ratelimit.LEASES.take(holder, rate, now)
    if leased is not None:
        name, usage = leased
        found = lookup.get(*params)
        if found is None:
            return None, None
        if f"{counter}{getattr(found, id_field)}" == name:
            return found, usage
        # (Never so for a key's digest or a user's id; if a lookup ever found another row for the
        # same parameters, its request is counted afresh below.)
    # A count made in a transaction that may yet roll back reserves nothing to hold: one request.
    amount = 1 if ratelimit.counted_in_transaction() else ratelimit.LEASES.size(holder, rate, now)
    charge = ratelimit.database_charge(counter, rate, now, amount=amount)
    if charge is None:
        found, count = lookup.get(*params), None
    else:
        found, count = lookup.get_charging(*params, charge=charge, id_field=id_field)
    if found is None:
        return None, None
    name = f"{counter}{getattr(found, id_field)}"
    if count is not None:
        usage = charge.usage(count)
    else:
        usage = ratelimit.charge(name, rate, now, amount=amount)
    return found, ratelimit.LEASES.grant(holder, rate, name, usage, amount, now)


class CredentialRateThrottle(BaseThrottle):
    """Requests per API key, or per user for a JWT: `API_RATE_LIMIT_PER_KEY` / `…_PER_USER`.

    BearerAuthentication counts a request as soon as it finds the credential (the key's row, the
    JWT's membership), with the same query (`find_and_count`), and asks this throttle for the
    verdict once the credential has passed its checks: a refused credential gets its 401/403,
    never a 429, and every authenticated response (errors too) carries the RateLimit-* headers.
    """

    def __init__(self, usage: ratelimit.Usage):
        self.usage = usage

    def allow_request(self, request, view) -> bool:
        request._request.rate_limit = self.usage
        return not self.usage.exceeded

    def wait(self) -> int:
        return self.usage.reset


class SignInFailureThrottle(BaseThrottle):
    """Failed sign-ins per email (`SIGN_IN_FAILURES_PER_EMAIL`) and per client address.

    Only failures count, so a user who signs in correctly is never slowed down; the check comes
    before the password is hashed, so a locked-out guesser costs no hashing either.
    """

    def __init__(self):
        self.wait_seconds = None

    def _counters(self, request) -> dict[str, ratelimit.Rate]:
        data = request.data if isinstance(request.data, dict) else {}
        email = data.get("email")
        counters = {f"sign-in-address:{_fingerprint(self.get_ident(request))}": "sign_in_address"}
        if isinstance(email, str) and email.strip():
            email = UserManager.normalize_email(email)
            counters[f"sign-in-email:{_fingerprint(email)}"] = "sign_in_email"
        return {name: ratelimit.Rate.for_scope(scope) for name, scope in counters.items()}

    def allow_request(self, request, view) -> bool:
        counters = self._counters(request)
        blocked = [
            usage
            for usage in ratelimit.peek(list(counters), counters)
            if usage.count >= usage.limit
        ]
        if blocked:
            self.wait_seconds = max(usage.reset for usage in blocked)
        return not blocked

    def record_failure(self, request) -> None:
        for name, rate in self._counters(request).items():
            ratelimit.charge(name, rate)

    def wait(self) -> int | None:
        return self.wait_seconds


def _fingerprint(text: str | None) -> str:
    """A fixed-length cache-key part for what a client sent: any length, any characters."""
    return hashlib.sha256((text or "").encode()).hexdigest()
