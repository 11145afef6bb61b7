"""Fetch feeds, sitemaps and article pages into the archive, incrementally; report the counts.

An article is skipped without downloading when its feed/sitemap date is the one recorded; else
it is fetched conditionally (ETag / Last-Modified), extracted, and written only when its file
would change. A page that fails is reported with its URL and reason and never stops the others.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from index.web.archive import render_article, web_path, write_text_atomically
from index.web.discovery import ARTICLE, SITEMAP, Link, read_listing
from index.web.extraction import decode_html, extract_article
from index.web.fetching import Fetcher, Page
from index.web.safety import FetchError, redact
from index.web.state import FetchState, Record

logger = logging.getLogger(__name__)

MAX_ARTICLES_PER_LISTING = 200  # newest first; the rest come in on later runs as they change
MAX_DEPTH = 2  # sitemap index -> sitemap -> article


@dataclass(frozen=True)
class Failure:
    """A URL that could not be brought in, and why."""

    url: str
    reason: str


@dataclass(frozen=True)
class FetchedArticle:
    """A new or changed article: where it was written and what it says first."""

    url: str
    title: str
    paragraphs: int
    first_paragraph: str
    path: Path
    changed: bool = False


@dataclass
class FetchReport:
    """Counts of one fetch run (articles, not listings), the failures, and the time taken."""

    new: int = 0
    changed: int = 0
    unchanged: int = 0
    failures: list[Failure] = field(default_factory=list)
    articles: list[FetchedArticle] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> int:
        """How many URLs failed."""
        return len(self.failures)

    def line(self) -> str:
        """Return the counts as one line of text."""
        return (
            f"{self.new} new, {self.changed} changed, {self.unchanged} unchanged, "
            f"{self.failed} failed in {self.seconds:.1f} s"
        )


def fetch_urls(
    urls: Sequence[str],
    data_dir: Path,
    fetcher: Fetcher,
    max_articles: int = MAX_ARTICLES_PER_LISTING,
) -> FetchReport:
    """Bring each URL (feed, sitemap, sitemap index or article page) into ``data_dir``.

    Args:
        urls: http(s) URLs; what each one is is told by what the server returns.
        data_dir: the archive; articles go to ``data_dir/web/<host>/<slug>.md``.
        fetcher: the polite, safe HTTP client to use.
        max_articles: articles taken from one feed or sitemap per run, newest first.

    Returns:
        The counts, new/changed articles and failures (the index is not touched).
    """
    started = time.monotonic()
    run = _Run(data_dir, fetcher, max_articles)
    for url in dict.fromkeys(urls):
        run.visit(url, "", 0)
    run.state.save()
    run.report.seconds = time.monotonic() - started
    return run.report


class _Run:
    """One fetch run: the shared state, the report, and the recursive walk."""

    def __init__(self, data_dir: Path, fetcher: Fetcher, max_articles: int) -> None:
        self.data_dir, self.fetcher, self.max_articles = data_dir, fetcher, max_articles
        self.state = FetchState(data_dir)
        self.report = FetchReport()
        self.seen: set[str] = set()  # a URL listed by two feeds is fetched and counted once

    def visit(self, url: str, modified: str, depth: int) -> None:
        """Fetch ``url`` and store it, or follow the links it lists; record any failure."""
        if url in self.seen:
            return
        self.seen.add(url)
        removed = self.state.get(url)
        if depth and removed and removed.removed:
            return  # an admin removed it; only asking for this very URL brings it back
        record = self._record(url)
        if record and modified and record.modified == modified:
            self.report.unchanged += 1
            return
        try:
            page = self.fetcher.get(url, *((record.etag, record.last_modified) if record else ()))
            if page.not_modified and record:
                self.report.unchanged += 1
                self.state.put(url, _refreshed(record, page, modified))
                return
            listing = read_listing(page)
            if listing.kind == ARTICLE:
                self._store(url, page, modified, record)
                return
        except FetchError as exc:
            logger.info("fetch failed: %s", exc)
            self.report.failures.append(Failure(redact(url), exc.reason))
            return
        if depth >= MAX_DEPTH:
            self.report.failures.append(Failure(redact(url), "listing nested too deep"))
            return
        for link in self._newest(listing.links, listing.kind == SITEMAP):
            self.visit(link.url, link.modified, depth + 1)

    def _record(self, url: str) -> Record | None:
        record = self.state.get(url)
        return record if record and (self.data_dir / record.path).is_file() else None

    def _newest(self, links: Sequence[Link], by_date: bool) -> list[Link]:
        ordered = sorted(links, key=lambda link: link.modified, reverse=True) if by_date else links
        return list(dict.fromkeys(ordered))[: self.max_articles]

    def _store(self, url: str, page: Page, modified: str, record: Record | None) -> None:
        article = extract_article(decode_html(page.content, page.charset, url), page.url)
        text = render_article(
            article.title, article.paragraphs, article.date, article.source, article.url
        )
        digest = hashlib.sha256(text.encode()).hexdigest()
        path = Path(record.path) if record else self._free_path(url, article.url)
        validators = _validators(page)
        self.state.put(url, Record(str(path), digest, *validators, modified, _now(), article.url))
        target = self.data_dir / path
        before = hashlib.sha256(target.read_bytes()).hexdigest() if target.is_file() else None
        if before == digest:
            self.report.unchanged += 1
            return
        write_text_atomically(target, text)
        self.report.changed += before is not None
        self.report.new += before is None
        first = article.paragraphs[0]
        self.report.articles.append(
            FetchedArticle(
                url, article.title, len(article.paragraphs), first, path, before is not None
            )
        )

    def _free_path(self, url: str, canonical: str) -> Path:
        """Where the article of ``url`` goes: by its canonical URL, shared by its aliases.

        Another article whose URL makes the same file name gets a hash suffix instead.
        """
        path = web_path(canonical)
        owner = self.state.owner(str(path))
        owner_record = self.state.get(owner) if owner else None
        if owner in (None, url) or (owner_record and owner_record.canonical == canonical):
            return path
        return path.with_stem(f"{path.stem}-{hashlib.sha1(url.encode()).hexdigest()[:8]}")


def _validators(page: Page) -> tuple[str, str]:
    return page.etag, page.last_modified


def _refreshed(record: Record, page: Page, modified: str) -> Record:
    return replace(
        record,
        etag=page.etag or record.etag,
        last_modified=page.last_modified or record.last_modified,
        modified=modified or record.modified,
        fetched_at=_now(),
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
