"""Where a webhook may be sent: never to this machine's network, whatever a URL or DNS says.

A URL is checked when it is saved (`check_url`) and its host resolved again at every delivery
(`resolve`): the delivery connects to the address checked, so a name that resolves to a public
address when saved and to 127.0.0.1 later (DNS rebinding) is refused then, not followed.
Refused: every address that is not globally routable (loopback, private, link-local, including
the cloud metadata address 169.254.169.254, shared, reserved, multicast), and schemes other than
https. WEBHOOKS_ALLOW_LOOPBACK_HTTP, for development and tests only, admits http and loopback
addresses (and nothing else private).
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


class UnsafeURL(ValueError):
    """A URL that must not be called; the message says why, for the API's error."""


def check_url(url: str) -> list[str]:
    """The URL's addresses, after checking its scheme and every address its host resolves to."""
    parts = _parts(url)
    return resolve(parts.hostname, _port(parts))


def target(url: str) -> tuple[str, int, str]:
    """(address to connect to, port, scheme) for a delivery, checked as when it was saved."""
    parts = _parts(url)
    port = _port(parts)
    return resolve(parts.hostname, port)[0], port, parts.scheme


def resolve(host: str, port: int) -> list[str]:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeURL(f"The host {host} does not resolve.") from None
    addresses = list(dict.fromkeys(info[4][0] for info in found))
    for address in addresses:
        reason = _refused(address)
        if reason:
            raise UnsafeURL(f"The host {host} resolves to {address}, {reason}.")
    return addresses


def _parts(url: str):
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        raise UnsafeURL("Not a valid URL.") from None
    allowed = ("https", "http") if settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP else ("https",)
    if parts.scheme not in allowed:
        raise UnsafeURL(f"Webhook URLs must use {' or '.join(allowed)}.")
    if not parts.hostname:
        raise UnsafeURL("The URL has no host.")
    if parts.username or parts.password:
        raise UnsafeURL("The URL must not hold a user name or password.")
    return parts


def _port(parts) -> int:
    return parts.port or (443 if parts.scheme == "https" else 80)


def _refused(address: str) -> str | None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return None if settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP else "a loopback address"
    if ip.is_link_local:
        return "a link-local address (cloud metadata lives there)"
    if ip.is_private or not ip.is_global or ip.is_multicast:
        return "a private or reserved address"
    return None
