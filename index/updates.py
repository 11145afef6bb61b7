"""The difference between ``data/`` and the index on disk, by file and by article content hash.

A data file whose size and mtime (or, failing that, SHA-256) match the last update is not read
again: its articles' hashes come from ``sources-<g>.json``. Changed and new files are parsed;
every article is then added, changed (content hash differs) or removed (gone from ``data/``).
When two files hold the same article id, the first in path order wins, as in a full load.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

from index.ingest import ARTICLE_SUFFIXES, BULK_SUFFIX, MAX_ARTICLE_BYTES, load_articles
from index.models import Article
from index.store import file_sha256

SOURCES_PREFIX = "sources"


@dataclass(frozen=True)
class SourceFile:
    """What one data file held at the last update."""

    size: int
    mtime_ns: int
    sha256: str
    articles: dict[str, str] = field(default_factory=dict)  # article id -> content hash
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Difference:
    """Articles to add, replace and remove, and the new state of every data file."""

    added: list[Article]
    changed: list[Article]
    removed: list[str]
    sources: dict[str, SourceFile]
    files_changed: bool

    @property
    def pending(self) -> bool:
        """Tell whether anything must be written (articles or just the files' state)."""
        return bool(self.added or self.changed or self.removed or self.files_changed)

    @property
    def articles(self) -> int:
        """Return how many articles ``data/`` holds after the update."""
        return sum(len(s.articles) for s in self.sources.values())

    @property
    def problems(self) -> list[str]:
        """Return the problems of every data file (skipped files and rows)."""
        return [p for s in self.sources.values() for p in s.problems]


def article_hash(article: Article) -> str:
    """Return the SHA-256 of everything an article shows (not where it was read from)."""
    fields = dataclasses.asdict(dataclasses.replace(article, origin=""))
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()


def data_files(data_dir: Path) -> list[Path]:
    """Return the article files under ``data_dir`` in the order a full load reads them."""
    suffixes = (*ARTICLE_SUFFIXES, BULK_SUFFIX)
    return sorted(
        p
        for p in data_dir.rglob("*")
        if p.is_file()
        and not p.name.startswith(".")
        and p.name.lower() != "readme.md"
        and p.suffix.lower() in suffixes
    )


def difference(
    data_dir: Path,
    previous: dict[str, SourceFile],
    max_article_bytes: int = MAX_ARTICLE_BYTES,
    progress: Callable[[int, int], None] | None = None,
) -> Difference:
    """Compare ``data_dir`` with the state ``previous`` of the last update.

    Args:
        data_dir: the article files.
        previous: each file's state at the last update (empty: everything is new).
        max_article_bytes: larger articles are skipped with a problem (see ``index.ingest``).
        progress: called with (files read, files to read) while changed files are parsed.
    """
    files = data_files(data_dir)
    sources, stale = _unchanged(files, previous)
    parsed = _parse(data_dir, stale, max_article_bytes, progress)
    fresh: dict[str, Article] = {}
    seen: set[str] = set()
    for path in files:
        if path in stale:
            size, mtime_ns, digest = stale[path]
            articles, problems = parsed.get(str(path), ([], []))
            kept = [a for a in articles if a.article_id not in seen]
            fresh.update((a.article_id, a) for a in kept)
            sources[str(path)] = SourceFile(
                size, mtime_ns, digest, {a.article_id: article_hash(a) for a in kept}, problems
            )
        else:
            # An id that an earlier file now holds is shadowed here, as in a full load.
            old = sources[str(path)]
            kept_ids = {i: h for i, h in old.articles.items() if i not in seen}
            sources[str(path)] = dataclasses.replace(old, articles=kept_ids)
        seen.update(sources[str(path)].articles)
    return _compare(previous, sources, fresh, files_changed=sources != previous)


def _unchanged(
    files: list[Path], previous: dict[str, SourceFile]
) -> tuple[dict[str, SourceFile], dict[Path, tuple[int, int, str]]]:
    """Split ``files`` into unchanged ones (by size + mtime, else SHA-256) and stale ones.

    Returns:
        (state of the unchanged files by path, (size, mtime_ns, SHA-256) of the stale ones).
    """
    sources: dict[str, SourceFile] = {}
    stale: dict[Path, tuple[int, int, str]] = {}
    for path in files:
        stat, old = path.stat(), previous.get(str(path))
        if old and (old.size, old.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
            sources[str(path)] = old
            continue
        digest = file_sha256(path)
        if old and old.sha256 == digest:
            sources[str(path)] = dataclasses.replace(old, mtime_ns=stat.st_mtime_ns)
        else:
            stale[path] = (stat.st_size, stat.st_mtime_ns, digest)
    return sources, stale


def _parse(
    data_dir: Path,
    stale: dict[Path, tuple[int, int, str]],
    max_article_bytes: int,
    progress: Callable[[int, int], None] | None,
) -> dict[str, tuple[list[Article], list[str]]]:
    """Read the stale files; return (articles, problems) by file path."""
    if not stale:
        return {}
    loaded = load_articles(data_dir, max_article_bytes, progress, only=set(stale))
    by_file: dict[str, tuple[list[Article], list[str]]] = {str(p): ([], []) for p in stale}
    for article in loaded.articles:
        by_file[_file_of(article.origin, by_file)][0].append(article)
    for problem in loaded.problems:
        where = _file_of(problem.path, by_file)
        by_file.get(where, by_file[next(iter(by_file))])[1].append(str(problem))
    return by_file


def _file_of(origin: str, files: Collection[str]) -> str:
    """Return the data file of an article's origin (``path`` or ``path:line``)."""
    return origin if origin in files else origin.rsplit(":", 1)[0]


def _compare(
    previous: dict[str, SourceFile],
    sources: dict[str, SourceFile],
    fresh: dict[str, Article],
    files_changed: bool,
) -> Difference:
    before = {i: h for s in previous.values() for i, h in s.articles.items()}
    after = {i: h for s in sources.values() for i, h in s.articles.items()}
    added = [fresh[i] for i in after if i not in before and i in fresh]
    changed = [fresh[i] for i in after if i in before and before[i] != after[i] and i in fresh]
    removed = [i for i in before if i not in after]
    return Difference(added, changed, removed, sources, files_changed)


def write_sources(directory: Path, tag: str, sources: dict[str, SourceFile]) -> str:
    """Write the data files' state as ``sources-<tag>.json``; return the file name."""
    name = f"{SOURCES_PREFIX}-{tag}.json"
    rows = {path: dataclasses.asdict(s) for path, s in sources.items()}
    # surrogateescape: a file name that is not UTF-8 round-trips instead of failing the update.
    text = json.dumps(rows, ensure_ascii=False)
    (directory / name).write_text(text, encoding="utf-8", errors="surrogateescape")
    return name


def read_sources(directory: Path, name: str) -> dict[str, SourceFile]:
    """Read a file written by :func:`write_sources`."""
    rows = json.loads((directory / name).read_text(encoding="utf-8", errors="surrogateescape"))
    return {path: SourceFile(**row) for path, row in rows.items()}
