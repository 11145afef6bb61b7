"""An article page's text and metadata, with trafilatura; page bytes to text by declared charset.

trafilatura drops navigation, ads, share bars, related-article lists and footers; what is left
is split into paragraphs as the page shows them (entities decoded, NFC), without the title
repeated as the first paragraph and without lines that are only a photo credit.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from index.chunking import strip_photo_credit
from index.text import normalize_text
from index.web.safety import FetchError

# <meta charset="..."> or <meta http-equiv="Content-Type" content="text/html; charset=...">
_META_CHARSET = re.compile(rb"<meta[^>]*?charset\s*=\s*[\"']?\s*([\w.:-]+)", re.IGNORECASE)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_SNIFF_BYTES = 4096
# Fewer words than this is a menu, a gallery or a stub, not an article (a news brief has ~50).
MIN_ARTICLE_WORDS = 25


@dataclass(frozen=True)
class WebArticle:
    """An article as read from a page: ``date`` is ISO (``YYYY-MM-DD``) or empty."""

    url: str
    title: str
    paragraphs: tuple[str, ...]
    date: str = ""
    source: str = ""
    author: str = ""


def decode_html(content: bytes, declared: str = "", url: str = "") -> str:
    """Return the text of an HTML page: BOM, else the HTTP charset, else <meta>, else UTF-8.

    Raises:
        FetchError: an unknown charset, or bytes that are not in the declared one.
    """
    for bom, encoding in _BOMS:
        if content.startswith(bom):
            return content.decode(encoding, "replace")
    meta = _META_CHARSET.search(content[:_SNIFF_BYTES])
    charset = declared or (meta.group(1).decode("ascii", "replace") if meta else "utf-8")
    try:
        return content.decode(codecs.lookup(charset).name)
    except LookupError:
        raise FetchError(url, f"unknown charset {charset!r}") from None
    except UnicodeDecodeError:
        raise FetchError(url, f"bad charset: the page is not valid {charset}") from None


def extract_article(page: str, url: str) -> WebArticle:
    """Return the article of an HTML page.

    Args:
        page: the page's HTML, already decoded (see :func:`decode_html`).
        url: where it came from; its host is the source when the page names no site.

    Raises:
        FetchError: no article text found on the page.
    """
    import trafilatura  # ~0.2 s to import: only when a page is read, not for every `import index`

    found = trafilatura.bare_extraction(
        page,
        url=url or None,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        include_images=False,
        favor_precision=True,
    )
    text = getattr(found, "text", None) or ""
    title = normalize_text(getattr(found, "title", None) or "")
    paragraphs = _paragraphs(text, title)
    if sum(len(paragraph.split()) for paragraph in paragraphs) < MIN_ARTICLE_WORDS:
        raise FetchError(url, "no article text found on the page")
    canonical = getattr(found, "url", None) or ""
    return WebArticle(
        url=canonical if _same_host(canonical, url) else url,
        title=title or paragraphs[0][:120],
        paragraphs=paragraphs,
        date=getattr(found, "date", None) or "",
        source=normalize_text(getattr(found, "sitename", None) or urlsplit(url).hostname or ""),
        author=normalize_text(getattr(found, "author", None) or ""),
    )


def _paragraphs(text: str, title: str) -> tuple[str, ...]:
    kept = []
    for line in text.split("\n"):
        paragraph = normalize_text(line)
        if not paragraph or paragraph == title or not strip_photo_credit(paragraph)[0]:
            continue
        kept.append(paragraph)
    return tuple(kept)


def _same_host(canonical: str, url: str) -> bool:
    """A canonical URL is trusted only on the fetched page's own host."""
    parts = urlsplit(canonical)
    return parts.scheme in ("http", "https") and (not url or parts.netloc == urlsplit(url).netloc)
