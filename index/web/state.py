"""Per URL fetched: its file, content hash and validators, in ``data/web/fetch-state.json``.

Kept beside the articles (plain JSON, backed up with them) so a copied archive stays
incremental. A missing or unreadable state only means the next fetch downloads everything once.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from index.web.archive import WEB_DIR, write_text_atomically

logger = logging.getLogger(__name__)

STATE_FILE = "fetch-state.json"
STATE_FORMAT = 1


@dataclass(frozen=True)
class Record:
    """One fetched article: ``path`` relative to the data directory, ``sha256`` of its file."""

    path: str
    sha256: str
    etag: str = ""
    last_modified: str = ""
    modified: str = ""  # the date the feed or sitemap gave for it (sitemap lastmod)
    fetched_at: str = ""
    canonical: str = ""  # the article's own URL (after redirects, <link rel="canonical">)
    removed: bool = False  # removed by an admin: feeds and sitemaps must not bring it back


class FetchState:
    """The records of ``<data_dir>/web/fetch-state.json``, by article URL."""

    def __init__(self, data_dir: Path) -> None:
        """Load the state of ``data_dir`` (empty if there is none yet)."""
        self.path = data_dir / WEB_DIR / STATE_FILE
        self.records: dict[str, Record] = self._load()

    def get(self, url: str) -> Record | None:
        """Return the record of ``url``, if it was fetched before."""
        return self.records.get(url)

    def put(self, url: str, record: Record) -> None:
        """Remember ``record`` for ``url`` (saved by :meth:`save`)."""
        self.records[url] = record

    def owner(self, path: str) -> str | None:
        """Return the URL whose article is stored at ``path``, if any."""
        return next((url for url, r in self.records.items() if r.path == path), None)

    def forget_path(self, path: str) -> None:
        """Drop every record stored at ``path`` (after the article was removed)."""
        self.records = {url: r for url, r in self.records.items() if r.path != path}

    def save(self) -> None:
        """Write the state atomically."""
        records = {url: asdict(record) for url, record in sorted(self.records.items())}
        payload = {"format": STATE_FORMAT, "articles": records}
        write_text_atomically(self.path, json.dumps(payload, ensure_ascii=False, indent=1))

    def _load(self) -> dict[str, Record]:
        if not self.path.is_file():
            return {}
        try:
            payload = json.loads(self.path.read_text(encoding="utf-8"))
            return {url: Record(**fields) for url, fields in payload["articles"].items()}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.warning(
                "ignoring unreadable %s (%s); pages will be fetched again", self.path, exc
            )
            return {}
