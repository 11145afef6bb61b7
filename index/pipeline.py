"""Build an index from a data directory (fully or by applying the difference), and load one."""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from index.cache import EmbeddingCache
from index.chunking import DEFAULT_MAX_CHARS
from index.embedding import Embedder
from index.errors import IndexNotBuiltError, RetrievalError
from index.ingest import MAX_ARTICLE_BYTES
from index.paragraphing import (
    BuildProgress,
    Work,
)
from index.search import Searcher, SearchSettings
from index.settings import StoreSettings, store_settings
from index.store import (
    MANIFEST_FILE,
    Manifest,
    StoredIndex,
    check_model,
    file_sha256,
    read_index,
    read_manifest,
    temporary_sibling,
)
from index.text import NORMALIZER_VERSION

if TYPE_CHECKING:
    from index.stores.qdrantsync import MirrorReport
from index.updates import difference, read_sources

logger = logging.getLogger(__name__)

DEFAULT_DATA_DIR = Path("data")
DEFAULT_INDEX_DIR = Path("var/index")


@dataclass(frozen=True)
class BuildReport:
    """What a build did.

    Attributes:
        articles: articles in the index now; chunks: paragraphs in the index now.
        added, changed, removed: paragraphs (by chunk id) against the previous index.
        embedded: paragraphs embedded by the model (the rest came from the cache).
        seconds: wall time of the build. problems: skipped files and rows.
        manifest: the manifest written (None when nothing changed).
    """

    articles: int
    chunks: int
    added: int
    changed: int
    removed: int
    embedded: int
    seconds: float
    problems: list[str] = field(default_factory=list)
    manifest: Manifest | None = None


def build_index(
    data_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    cache: EmbeddingCache | None = None,
    progress: BuildProgress | None = None,
    max_chars: int = DEFAULT_MAX_CHARS,
    max_article_bytes: int = MAX_ARTICLE_BYTES,
    full: bool = False,
    store: StoreSettings | None = None,
) -> BuildReport:
    """Bring the index in ``index_dir`` up to date with ``data_dir``.

    Only the difference is applied (added, changed and removed articles) unless ``full`` is
    set, there is no usable index yet, or the model or chunking settings changed. The index
    that is serving stays valid throughout; a killed update is completed by the next run.

    Args:
        data_dir: article files and JSONL files.
        index_dir: the index directory (created if missing).
        embedder: the model the index is (or will be) built with.
        cache: vectors already computed, by text; new vectors are added to it.
        progress: called with (stage, done, total) while embedding and writing.
        max_chars: chunking limit (a change triggers a full build).
        max_article_bytes: larger article files and JSONL rows are skipped with a problem.
        full: rebuild everything from scratch.
        store: where the index is served (default: ``VECTOR_STORE`` and ``QDRANT_*`` of the
            environment); with Qdrant the collection is then brought to the same paragraphs.

    Returns:
        What the build did.

    Raises:
        RetrievalError: ``data_dir`` holds no readable article (nothing is changed).
        OSError: ``index_dir`` cannot be written (read-only, disk full, no permission).
    """
    from index.building import apply_difference, build_from_scratch

    started = time.monotonic()
    check_writable(index_dir)
    reading = (lambda done, total: progress("read", done, total)) if progress else None
    with _exclusive(index_dir):
        manifest = None if full else _usable(index_dir, embedder, max_chars)
        previous = read_sources(index_dir, manifest.stores["sources"][0]) if manifest else {}
        diff = difference(data_dir, previous, max_article_bytes, reading)
        if not diff.articles:
            raise RetrievalError(
                f"No readable articles in {data_dir}; nothing was changed. "
                "Add .txt/.md/.jsonl files (see data/README.md)."
            )
        work = Work(embedder, cache, progress, max_chars)
        stored = _stores(index_dir) if manifest and diff.pending else None
        if manifest and not diff.pending:
            counts = (0, 0, 0, 0)  # nothing to do: the stores are not even read
        elif stored is None:
            counts, manifest = build_from_scratch(index_dir, diff, work)
        else:
            counts, manifest = apply_difference(index_dir, stored, diff, work)
            stored.paragraphs.close()
        store = store or store_settings()
        if store.qdrant:
            mirror_index(index_dir, store)
    return BuildReport(
        articles=diff.articles,
        chunks=manifest.count,
        added=counts[0],
        changed=counts[1],
        removed=counts[2],
        embedded=counts[3],
        seconds=time.monotonic() - started,
        problems=diff.problems,
        manifest=manifest,
    )


def check_writable(index_dir: Path) -> None:
    """Raise OSError now if ``index_dir`` cannot be written, not after a long embedding."""
    probe = temporary_sibling(index_dir)
    probe.mkdir()
    probe.rmdir()


def load_index(
    index_dir: Path,
    embedder: Embedder,
    settings: SearchSettings | None = None,
    store: StoreSettings | None = None,
) -> Searcher:
    """Load the index in ``index_dir`` (or the Qdrant collection of ``store``) for ``embedder``.

    Raises:
        IndexNotBuiltError: no index, or a corrupt or inconsistent one.
        ModelMismatchError: the index was built with another model, weights or dimension.
        SearchUnavailableError: Qdrant does not answer.
    """
    store = store or store_settings()
    if store.qdrant:
        return _load_qdrant(embedder, settings, store)
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
    """Load the index in ``index_dir``, building it from ``data_dir`` first if there is none.

    With ``VECTOR_STORE=qdrant`` a collection that already holds an index is served as is (a
    bot replica needs no local index); otherwise it is built and mirrored first.
    """
    if store_settings().qdrant:
        try:
            return load_index(index_dir, embedder)
        except IndexNotBuiltError:
            logger.info("the Qdrant collection holds no index yet; building it from %s", data_dir)
    if not (index_dir / MANIFEST_FILE).exists():
        logger.info("no index in %s yet; building it from %s", index_dir, data_dir)
        build_index(
            data_dir, index_dir, embedder, cache, progress, max_article_bytes=max_article_bytes
        )
    return load_index(index_dir, embedder)


def mirror_index(index_dir: Path, store: StoreSettings) -> MirrorReport:
    """Copy the embedded index in ``index_dir`` into the Qdrant collection of ``store``.

    Only the difference is written (no embedding); running it twice changes nothing.

    Raises:
        IndexNotBuiltError: no readable embedded index.
        SearchUnavailableError: Qdrant does not answer.
        RetrievalError: the counts disagree afterwards.
    """
    from index.stores.qdrantsync import connect, guarded, mirror

    client = connect(store)
    stored = read_index(index_dir)
    try:
        report = guarded(store, mirror, stored, client, store)
    finally:
        stored.paragraphs.close()
    logger.info(
        "Qdrant collection %s: +%d, -%d points, %d held",
        store.collection,
        report.added,
        report.removed,
        report.count,
    )
    return report


def _load_qdrant(
    embedder: Embedder, settings: SearchSettings | None, store: StoreSettings
) -> Searcher:
    from index.stores.qdrantsync import connect, open_stored

    stored = open_stored(connect(store), store.collection)
    where = Path(store.collection)
    check_model(stored.manifest, where, embedder.name, embedder.fingerprint, embedder.dim)
    logger.info("serving Qdrant collection %s (%s)", store.collection, store.where)
    return Searcher(stored, embedder, settings)


def _usable(index_dir: Path, embedder: Embedder, max_chars: int) -> Manifest | None:
    """Return the manifest of an index to update in place, or None to build from scratch."""
    try:
        manifest = read_manifest(index_dir)
        check_model(manifest, index_dir, embedder.name, embedder.fingerprint, embedder.dim)
        [sources] = manifest.stores["sources"]
        if file_sha256(index_dir / sources) != manifest.files[sources]:
            raise IndexNotBuiltError(f"{index_dir / sources} is corrupt")
    except (RetrievalError, KeyError, ValueError, OSError) as exc:
        if (index_dir / MANIFEST_FILE).exists():
            logger.warning("rebuilding %s from scratch: %s", index_dir, exc)
        return None
    if (manifest.settings.get("max_chars"), manifest.normalizer) != (
        max_chars,
        NORMALIZER_VERSION,
    ):
        return None
    return manifest


def _stores(index_dir: Path) -> StoredIndex | None:
    """Read the index to update, or None (with a warning) when it must be rebuilt."""
    try:
        return read_index(index_dir, lazy=True)
    except IndexNotBuiltError as exc:
        logger.warning("rebuilding %s from scratch: %s", index_dir, exc)
        return None


@contextmanager
def _exclusive(index_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on the index's parent directory: one build or update at a time.

    Locking the directory itself leaves no lock file behind.
    """
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    handle = os.open(index_dir.parent, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # closing releases the lock
