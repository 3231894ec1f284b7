"""Rate limits: requests per credential, and failed sign-ins per email and per client address."""

import hashlib

from rest_framework.throttling import BaseThrottle

from organizations.models import UserManager

from . import ratelimit


class CredentialRateThrottle(BaseThrottle):
    """Requests per API key, or per user for a JWT: `API_RATE_LIMIT_PER_KEY` / `…_PER_USER`.

    BearerAuthentication charges it as soon as it knows the principal, before any permission
    check, so every authenticated request counts and every authenticated response (errors too)
    carries the RateLimit-* headers.
    """

    def __init__(self, principal):
        self.principal = principal
        self.usage = None

    def allow_request(self, request, view) -> bool:
        principal = self.principal
        if principal.is_api_key:
            name, scope = f"key:{principal.api_key.pk}", "api_key"
        else:
            name, scope = f"user:{principal.user.pk}", "user"
        self.usage = ratelimit.charge(name, ratelimit.Rate.for_scope(scope))
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
