"""Which URLs may be fetched, and URLs fit to print: the safety rules of the web archive.

Only http and https; no private, loopback or link-local address unless ``allow_private`` (the
tests' local server, an intranet portal). Credentials in a URL never reach a message or a log.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit, urlunsplit

from index.errors import RetrievalError


class FetchError(RetrievalError):
    """A URL that could not be fetched; ``reason`` says why in a few words."""

    def __init__(self, url: str, reason: str) -> None:
        """Build ``url: reason`` with any credentials removed from ``url``."""
        self.url = redact(url)
        self.reason = reason
        super().__init__(f"{self.url}: {reason}")


def redact(url: str) -> str:
    """Return ``url`` without user:password."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def check_url(url: str, allow_private: bool) -> None:
    """Refuse anything but http(s) to a public address (unless ``allow_private``).

    The host name is resolved here; every address it resolves to must be global.

    Raises:
        FetchError: another scheme, an unknown host, or a non-public address.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(url, "only http:// and https:// URLs can be fetched")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise FetchError(url, "host name not found") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global:
            raise FetchError(
                url, "private, loopback or link-local address refused (ALLOW_PRIVATE_URLS)"
            )
