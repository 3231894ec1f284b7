"""Request headers on the hot paths, and conditional requests: ETag and If-Match (RFC 9110,
section 13.1.1)."""

from dataclasses import dataclass


def request_header(request, name: str) -> str | None:
    """The value of the request's header `name` ("If-Match"), or None if it was not sent.

    Read from META, as the server handed it over: Django's `request.headers` builds a mapping of
    every header of the request on first use, work a request that reads two headers does not
    need. Not for Content-Type and Content-Length, which META
    keeps without the HTTP_ prefix.
    """
    return request.META.get("HTTP_" + name.upper().replace("-", "_"))


@dataclass(frozen=True)
class IfMatch:
    """A parsed If-Match header. `*` matches any current representation."""

    tags: frozenset[str]
    any: bool = False

    @classmethod
    def parse(cls, header: str | None) -> "IfMatch | None":
        if header is None:
            return None
        header = header.strip()
        if header == "*":
            return cls(frozenset(), any=True)
        # If-Match uses the strong comparison: a weak tag (W/"…") never matches.
        return cls(frozenset(tag.strip() for tag in header.split(",") if tag.strip()))

    def matches(self, etag: str) -> bool:
        return self.any or etag in self.tags
