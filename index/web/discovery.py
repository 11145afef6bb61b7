"""What a fetched URL is (feed, sitemap, sitemap index, article page) and the links it lists.

Feeds (RSS 0.9x/1.0/2.0, Atom) are parsed by feedparser; sitemaps, news sitemaps and sitemap
indexes (optionally gzipped) by defusedxml's ElementTree, which refuses entity bombs.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeTree
from defusedxml import DefusedXmlException

from index.web.fetching import MAX_BYTES, Page
from index.web.safety import FetchError

FEED, SITEMAP, SITEMAP_INDEX, ARTICLE = "feed", "sitemap", "sitemap index", "article"
_FEED_ROOTS = ("rss", "feed", "rdf")
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_XML_HINTS = ("xml", "rss", "atom")


@dataclass(frozen=True)
class Link:
    """An article (or child sitemap) URL with the date the listing gives for it, if any."""

    url: str
    modified: str = ""


@dataclass(frozen=True)
class Listing:
    """What a page is (FEED, SITEMAP, SITEMAP_INDEX or ARTICLE) and the links it lists."""

    kind: str
    links: tuple[Link, ...] = ()


def read_listing(page: Page) -> Listing:
    """Tell a feed or sitemap from an article page by what the server returned.

    Raises:
        FetchError: neither HTML nor a feed or sitemap (e.g. a PDF or an image), or broken XML.
    """
    content = _gunzip(page)
    head = content[:512].lstrip().lower()
    xml_like = head.startswith(b"<?xml") or any(h in page.content_type for h in _XML_HINTS)
    if page.content_type in _HTML_TYPES or (not xml_like and b"<html" in head):
        return Listing(ARTICLE)
    if not xml_like:
        kind = page.content_type or "unknown content type"
        raise FetchError(page.url, f"not an HTML page, feed or sitemap ({kind})")
    try:
        root = SafeTree.fromstring(content)
    except (SafeTree.ParseError, DefusedXmlException) as exc:
        raise FetchError(page.url, f"broken XML ({exc})") from None
    name = _local(root.tag)
    if name == "urlset":
        return Listing(SITEMAP, tuple(_sitemap_links(root, "url")))
    if name == "sitemapindex":
        return Listing(SITEMAP_INDEX, tuple(_sitemap_links(root, "sitemap")))
    if name in _FEED_ROOTS:
        return Listing(FEED, tuple(_feed_links(content)))
    if name == "html":
        return Listing(ARTICLE)
    raise FetchError(page.url, f"XML that is neither a feed nor a sitemap (<{name}>)")


def _feed_links(content: bytes) -> list[Link]:
    import feedparser  # imported when a feed is read, not for every `import index`

    parsed = feedparser.parse(content)
    links = []
    for entry in parsed.entries:
        url = entry.get("link") or ""
        # No date: a feed's pubDate stays when an article is corrected; ETags tell instead.
        if url.startswith(("http://", "https://")):
            links.append(Link(url))
    return links


def _sitemap_links(root: Element, item: str) -> list[Link]:
    links = []
    for node in root:
        if _local(node.tag) != item:
            continue
        fields = {_local(child.tag): (child.text or "").strip() for child in node.iter()}
        url = fields.get("loc", "")
        if url.startswith(("http://", "https://")):
            # news:publication_date stands in for a news sitemap entry without <lastmod>.
            links.append(Link(url, fields.get("lastmod") or fields.get("publication_date", "")))
    return links


def _local(tag: str) -> str:
    """``{namespace}name`` -> ``name``, lowercased."""
    return tag.rsplit("}", 1)[-1].lower()


def _gunzip(page: Page) -> bytes:
    """Decompress a ``.xml.gz`` sitemap (served as a file, not Content-Encoding)."""
    if not page.content.startswith(b"\x1f\x8b"):
        return page.content
    try:
        inflater = zlib.decompressobj(wbits=31)
        content = inflater.decompress(page.content, MAX_BYTES + 1)
    except (zlib.error, gzip.BadGzipFile):
        raise FetchError(page.url, "broken gzip file") from None
    if len(content) > MAX_BYTES:
        raise FetchError(page.url, f"larger than {MAX_BYTES // 1024 // 1024} MB unpacked")
    return content
