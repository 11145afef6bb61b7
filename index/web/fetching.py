"""Polite and safe HTTP GET for the web archive: one :class:`Fetcher` per run.

Politeness: a clear User-Agent, robots.txt obeyed (and its Crawl-delay), a delay between two
requests to the same host, conditional requests (ETag / Last-Modified). Safety: every URL and
redirect hop passes :func:`index.web.safety.check_url`; at most :data:`MAX_REDIRECTS`
redirects, a timeout, a size cap.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from index import __version__
from index.web.safety import FetchError, check_url

logger = logging.getLogger(__name__)

MAX_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5
DEFAULT_TIMEOUT_S = 20.0
DEFAULT_DELAY_S = 1.0
ROBOTS_AGENT = "vn-news-qa"
USER_AGENT = f"{ROBOTS_AGENT}/{__version__} (news archive fetcher; obeys robots.txt)"
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)


@dataclass(frozen=True)
class Page:
    """A fetched response: ``status`` 200, or 304 when the validators still match."""

    url: str
    status: int
    content: bytes = b""
    content_type: str = ""
    charset: str = ""
    etag: str = ""
    last_modified: str = ""

    @property
    def not_modified(self) -> bool:
        """True when the server answered 304 Not Modified."""
        return self.status == 304


class Fetcher:
    """GETs pages politely and safely (see the module docstring). Use as a context manager."""

    def __init__(
        self,
        allow_private: bool = False,
        delay_s: float = DEFAULT_DELAY_S,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        """Fetch with ``timeout_s`` per network step, ``delay_s`` between hits on one host."""
        self.allow_private = allow_private
        self.delay_s = delay_s
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes
        self._client = httpx.Client(
            timeout=timeout_s, follow_redirects=False, headers={"User-Agent": USER_AGENT}
        )
        self._robots: dict[str, RobotFileParser | None] = {}
        self._last_hit: dict[str, float] = {}

    def __enter__(self) -> Fetcher:
        """Return the fetcher itself."""
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Close the connection pool."""
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def get(self, url: str, etag: str = "", last_modified: str = "") -> Page:
        """Fetch ``url``, following at most MAX_REDIRECTS redirects.

        Args:
            url: an http(s) URL.
            etag: the ETag of the copy we have, sent as If-None-Match.
            last_modified: its Last-Modified, sent as If-Modified-Since.

        Returns:
            The page (``status`` 200), or a 304 page with no content.

        Raises:
            FetchError: refused, disallowed by robots.txt, HTTP error, timeout, too large.
        """
        headers = {"If-None-Match": etag} if etag else {}
        headers |= {"If-Modified-Since": last_modified} if last_modified else {}
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            check_url(current, self.allow_private)
            if not self._allowed_by_robots(current):
                raise FetchError(current, "disallowed by the site's robots.txt")
            page, location = self._get_once(current, headers)
            if page is not None:
                return page
            current = urljoin(current, location)
        raise FetchError(url, f"too many redirects (more than {MAX_REDIRECTS})")

    def _get_once(self, url: str, headers: dict[str, str]) -> tuple[Page | None, str]:
        """One GET: (page, "") on an answer, (None, location) on a redirect."""
        self._wait_turn(url)
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                if response.status_code == 304:  # httpx counts 304 as a redirect
                    return Page(url=url, status=304), ""
                if response.is_redirect and response.headers.get("location"):
                    return None, response.headers["location"]
                if response.status_code >= 400:
                    raise FetchError(url, f"HTTP {response.status_code} {response.reason_phrase}")
                content = self._read_capped(url, response)
        except httpx.TimeoutException:
            raise FetchError(url, f"timed out after {self.timeout_s:g} s") from None
        except httpx.HTTPError as exc:
            raise FetchError(url, f"network error ({type(exc).__name__})") from None
        return _page(url, response, content), ""

    def _read_capped(self, url: str, response: httpx.Response) -> bytes:
        limit = f"larger than {self.max_bytes / 1024 / 1024:g} MB"
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchError(url, limit)
        deadline = time.monotonic() + 3 * self.timeout_s  # a trickling server is cut off too
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise FetchError(url, limit)
            if time.monotonic() > deadline:
                raise FetchError(url, f"timed out after {3 * self.timeout_s:g} s")
            chunks.append(chunk)
        return b"".join(chunks)

    def _wait_turn(self, url: str) -> None:
        """Sleep so two requests to one host are at least the delay (or Crawl-delay) apart."""
        host = urlsplit(url).netloc
        robots = self._robots.get(_origin(url))
        crawl_delay = robots.crawl_delay(ROBOTS_AGENT) if robots else None
        delay = max(self.delay_s, float(crawl_delay or 0))
        wait = self._last_hit.get(host, -1e9) + delay - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._last_hit[host] = time.monotonic()

    def _allowed_by_robots(self, url: str) -> bool:
        origin = _origin(url)
        if origin not in self._robots:
            self._robots[origin] = self._read_robots(origin)
        robots = self._robots[origin]
        return robots is None or robots.can_fetch(ROBOTS_AGENT, url)

    def _read_robots(self, origin: str) -> RobotFileParser | None:
        """Return the parsed robots.txt of ``origin``; None (allow all) when it has none."""
        try:
            page, _ = self._get_once(f"{origin}/robots.txt", {})
        except FetchError as exc:
            logger.info("no usable robots.txt at %s (%s); fetching as allowed", origin, exc.reason)
            return None
        if page is None:
            return None
        parser = RobotFileParser()
        parser.parse(page.content.decode("utf-8", "replace").splitlines())
        return parser


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"


def _page(url: str, response: httpx.Response, content: bytes) -> Page:
    content_type = response.headers.get("content-type", "")
    charset = _CHARSET.search(content_type)
    return Page(
        url=url,
        status=response.status_code,
        content=content,
        content_type=content_type.split(";")[0].strip().lower(),
        charset=charset.group(1).lower() if charset else "",
        etag=response.headers.get("etag", ""),
        last_modified=response.headers.get("last-modified", ""),
    )
