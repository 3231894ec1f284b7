"""Conditional requests: ETag and If-Match (RFC 9110, section 13.1.1)."""

from dataclasses import dataclass


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
