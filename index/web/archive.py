"""Article files written into ``data/`` in the documented format, and where web articles go.

Fetched pages go to ``data/web/<host>/<slug>.md``, posts forwarded from channels to
``data/telegram/<channel>/<post>.md``, files sent in chat to ``data/uploads/``; the archive
stays a folder a person can read and back up.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

from index.text import fold, normalize_text

WEB_DIR = "web"
MAX_SLUG_CHARS = 80
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_PAGE_SUFFIX = re.compile(r"\.(s?html?|php|aspx?|jsp)$", re.IGNORECASE)


def render_article(
    title: str, paragraphs: Sequence[str], date: str = "", source: str = "", url: str = ""
) -> str:
    """Return an article file: the ``key: value`` header, a blank line, paragraphs apart."""
    header = [
        f"{key}: {normalize_text(value)}" for key, value in _fields(title, date, source, url)
    ]
    body = [normalize_text(paragraph) for paragraph in paragraphs]
    return "\n".join(header) + "\n\n" + "\n\n".join(p for p in body if p) + "\n"


def write_text_atomically(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file, so no reader sees half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def slug(text: str, fallback: str = "index") -> str:
    """Return ``text`` as a file-name slug: folded (no diacritics), a-z0-9 and dashes."""
    cut = _NOT_SLUG.sub("-", fold(text).lower()).strip("-")[:MAX_SLUG_CHARS].strip("-")
    return cut or fallback


def web_path(url: str) -> Path:
    """Return ``web/<host>/<slug>.md`` (relative to the data directory) for an article URL."""
    parts = urlsplit(url)
    host = re.sub(r"[^a-z0-9.-]+", "-", (parts.hostname or "unknown").lower()).strip(".-")
    host = (host or "unknown") + (f"-{parts.port}" if parts.port else "")
    segments = [s for s in unquote(parts.path).split("/") if s]
    name = slug(_PAGE_SUFFIX.sub("", segments[-1])) if segments else "index"
    if parts.query:
        name += f"-{hashlib.sha1(parts.query.encode()).hexdigest()[:8]}"
    return Path(WEB_DIR, host, name + ".md")


def _fields(title: str, date: str, source: str, url: str) -> list[tuple[str, str]]:
    fields = [("title", title), ("date", date), ("source", source), ("url", url)]
    return [(key, value) for key, value in fields if normalize_text(value)]
