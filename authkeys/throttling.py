"""Rate limits: requests per credential, and failed sign-ins per email and per client address."""

import hashlib

from rest_framework.throttling import BaseThrottle

from common import metrics
from organizations.models import UserManager

from . import ratelimit
from .authentication import Principal

# Each credential's counter is named by its kind and its id; the rates are scopes of
# REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"].
API_KEY_COUNTER, API_KEY_SCOPE = "key:", "api_key"
USER_COUNTER, USER_SCOPE = "user:", "user"


def credential_counter(principal: Principal) -> tuple[str, ratelimit.Rate] | None:
    """The counter a credential's requests are counted in, and its rate: per API key, and per
    user for a JWT, whichever organization the user acts for. None: nothing to count."""
    if principal.api_key is not None:
        return f"{API_KEY_COUNTER}{principal.api_key.pk}", ratelimit.Rate.for_scope(API_KEY_SCOPE)
    if principal.user is not None:
        return f"{USER_COUNTER}{principal.user.pk}", ratelimit.Rate.for_scope(USER_SCOPE)
    return None


class CredentialRateThrottle(BaseThrottle):
    """Requests per API key, or per user for a JWT: `API_RATE_LIMIT_PER_KEY` / `…_PER_USER`.

    It counts requests BearerAuthentication has authenticated (`request.auth`, a Principal), each
    in the credential's shared counter (ratelimit.count_request: one statement in the store).
    A credential refused by authentication never gets here: its answer is 401/403, never 429.
    Where the counter stands is kept on the request (`request.rate_limit`), for the RateLimit-*
    headers that authkeys.middleware puts on the response, an error's too.
    """

    def __init__(self):
        self.usage = None

    def allow_request(self, request, view) -> bool:
        if not isinstance(request.auth, Principal):
            return True
        counter = credential_counter(request.auth)
        if counter is None:
            return True
        self.usage = request.rate_limit = ratelimit.count_request(*counter)
        if self.usage.exceeded:
            metrics.RATE_LIMITED.labels("credential").inc()
        return not self.usage.exceeded

    def wait(self) -> int | None:
        return None if self.usage is None else self.usage.reset


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
            metrics.RATE_LIMITED.labels("sign_in").inc()
        return not blocked

    def record_failure(self, request) -> None:
        for name, rate in self._counters(request).items():
            ratelimit.count_request(name, rate)

    def wait(self) -> int | None:
        return self.wait_seconds


def _fingerprint(text: str | None) -> str:
    """A fixed-length cache-key part for what a client sent: any length, any characters (half of
    a surrogate pair, which JSON can send, too)."""
    return hashlib.sha256((text or "").encode("utf-8", "surrogatepass")).hexdigest()
