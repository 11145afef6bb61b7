"""Build an index from a data directory, and load one into a Searcher."""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from index.cache import EmbeddingCache, text_key
from index.chunking import DEFAULT_MAX_CHARS, split_article
from index.embedding import Embedder
from index.errors import IndexNotBuiltError, RetrievalError
from index.ingest import MAX_ARTICLE_BYTES, load_articles
from index.lexical import LexicalIndex
from index.models import Article, Chunk
from index.search import Searcher, SearchSettings
from index.store import (
    MANIFEST_FILE,
    Manifest,
    check_model,
    read_chunks,
    read_index,
    read_manifest,
    swap_into_place,
    temporary_sibling,
    write_index,
)
from index.text import NORMALIZER_VERSION, canonical_text

logger = logging.getLogger(__name__)

DEFAULT_DATA_DIR = Path("data")
DEFAULT_INDEX_DIR = Path("var/index")
# (stage, done, total): stages are "read" (files), "embed" (paragraphs) and "write".
BuildProgress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class BuildReport:
    """What a build did: counts, paragraph changes against the previous index, time."""

    articles: int
    chunks: int
    added: int
    changed: int
    removed: int
    embedded: int
    seconds: float
    problems: list[str] = field(default_factory=list)
    manifest: Manifest | None = None


def chunk_input(chunk: Chunk) -> str:
    """Return the text embedded and BM25-indexed for a chunk: its title, then its words."""
    return canonical_text(f"{chunk.title}. {chunk.text}" if chunk.title else chunk.text)


def build_index(
    data_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    cache: EmbeddingCache | None = None,
    progress: BuildProgress | None = None,
    max_chars: int = DEFAULT_MAX_CHARS,
    max_article_bytes: int = MAX_ARTICLE_BYTES,
) -> BuildReport:
    """Build an index of ``data_dir`` into ``index_dir``; the old index serves until the swap.

    Raises:
        RetrievalError: no readable article.
        OSError: ``index_dir`` cannot be written (read-only, disk full, no permission).
    """
    started = time.monotonic()
    check_writable(index_dir)
    reading = (lambda done, total: progress("read", done, total)) if progress else None
    loaded = load_articles(data_dir, max_article_bytes, reading)
    if not loaded.articles:
        raise RetrievalError(
            f"No readable articles in {data_dir}; nothing was changed. "
            "Add .txt/.md/.jsonl files (see data/README.md)."
        )
    chunks = build_chunks(loaded.articles, max_chars)
    inputs = [chunk_input(c) for c in chunks]
    vectors, embedded = embed_with_cache(embedder, inputs, cache, progress)
    added, changed, removed = _diff(index_dir, chunks)
    manifest = Manifest(
        model=embedder.name,
        fingerprint=embedder.fingerprint,
        dim=embedder.dim,
        count=len(chunks),
        articles=len(loaded.articles),
        normalizer=NORMALIZER_VERSION,
        built_at=datetime.now(UTC).isoformat(),
        vector_index="",
        settings={"max_chars": max_chars},
        versions=_versions(),
    )
    if progress:
        progress("write", 0, 1)
    building = temporary_sibling(index_dir)
    try:
        manifest = write_index(building, chunks, vectors, LexicalIndex.build(inputs), manifest)
        swap_into_place(building, index_dir)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    if progress:
        progress("write", 1, 1)
    return BuildReport(
        articles=len(loaded.articles),
        chunks=len(chunks),
        added=added,
        changed=changed,
        removed=removed,
        embedded=embedded,
        seconds=time.monotonic() - started,
        problems=[str(p) for p in loaded.problems],
        manifest=manifest,
    )


def check_writable(index_dir: Path) -> None:
    """Raise OSError now if ``index_dir`` cannot be written, not after a long embedding."""
    probe = temporary_sibling(index_dir)
    probe.mkdir()
    probe.rmdir()


def build_chunks(articles: list[Article], max_chars: int = DEFAULT_MAX_CHARS) -> list[Chunk]:
    """Split every article into chunks, in article order."""
    return [chunk for article in articles for chunk in split_article(article, max_chars)]


def embed_with_cache(
    embedder: Embedder,
    inputs: list[str],
    cache: EmbeddingCache | None,
    progress: BuildProgress | None = None,
) -> tuple[np.ndarray, int]:
    """Embed ``inputs``, reusing cached vectors; return (vectors, how many were computed)."""
    keys = [text_key(text) for text in inputs]
    known = cache.get_many(embedder.fingerprint, keys, embedder.dim) if cache else {}
    missing = sorted({k: i for i, k in enumerate(keys) if k not in known}.values())
    done = len(inputs) - len(missing)
    if progress:
        progress("embed", done, len(inputs))

    def advance(count: int) -> None:
        nonlocal done
        done += count
        if progress:
            progress("embed", done, len(inputs))

    fresh = embedder.embed_chunks([inputs[i] for i in missing], advance)
    new = {keys[i]: fresh[row] for row, i in enumerate(missing)}
    if cache and new:
        cache.put_many(embedder.fingerprint, new)
    known.update(new)
    vectors = (
        np.stack([known[k] for k in keys]) if keys else np.zeros((0, embedder.dim), np.float32)
    )
    return vectors.astype(np.float32), len(missing)


def load_index(
    index_dir: Path, embedder: Embedder, settings: SearchSettings | None = None
) -> Searcher:
    """Load the index in ``index_dir``; refuse a corrupt index or one of another model."""
    manifest = read_manifest(index_dir)
    check_model(manifest, index_dir, embedder.name, embedder.fingerprint, embedder.dim)
    stored = read_index(index_dir)
    logger.info(
        "loaded index %s: %d chunks of %d articles, model %s (dim %d), built %s",
        index_dir,
        manifest.count,
        manifest.articles,
        manifest.model,
        manifest.dim,
        manifest.built_at,
    )
    return Searcher(stored, embedder, settings)


def load_or_build_index(
    data_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    cache: EmbeddingCache | None = None,
    progress: BuildProgress | None = None,
    max_article_bytes: int = MAX_ARTICLE_BYTES,
) -> Searcher:
    """Load the index in ``index_dir``, building it from ``data_dir`` first if there is none."""
    if not (index_dir / MANIFEST_FILE).exists():
        logger.info("no index in %s yet; building it from %s", index_dir, data_dir)
        build_index(
            data_dir, index_dir, embedder, cache, progress, max_article_bytes=max_article_bytes
        )
    return load_index(index_dir, embedder)


def _diff(index_dir: Path, chunks: list[Chunk]) -> tuple[int, int, int]:
    """Count (added, changed, removed) chunks against the index currently in ``index_dir``."""
    try:
        old = {c.chunk_id: c.text for c in read_chunks(index_dir)}
    except IndexNotBuiltError:
        old = {}
    new = {c.chunk_id: c.text for c in chunks}
    added = sum(1 for key in new if key not in old)
    changed = sum(1 for key, text in new.items() if key in old and old[key] != text)
    return added, changed, sum(1 for key in old if key not in new)


def _versions() -> dict[str, str]:
    """Return the versions of the libraries that shape the index (read without importing them)."""
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for name in ("vn-news-qa", "faiss-cpu", "sentence-transformers"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "unknown"
    return versions
