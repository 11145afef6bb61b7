"""Write an index: from scratch into a swapped-in directory, or a difference applied in place.

An in-place update writes its store files under a new generation tag and its paragraphs as
rows of that generation, then commits by replacing ``manifest.json`` (one rename). Killed
before that, it leaves the previous generation loadable; the next run rolls the paragraph
rows back and applies the difference again.
"""

from __future__ import annotations

import dataclasses
import shutil
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index.models import Chunk
from index.paragraphs import PARAGRAPHS_FILE, ParagraphStore
from index.store import (
    Manifest,
    StoredIndex,
    remove_unlisted,
    swap_into_place,
    temporary_sibling,
    write_manifest,
)
from index.stores.base import DenseStore, LexicalStore
from index.stores.bm25 import Bm25Store
from index.stores.dense import FaissDenseStore
from index.text import NORMALIZER_VERSION
from index.updates import Difference, write_sources

if TYPE_CHECKING:
    from index.paragraphing import Work

# (added, changed, removed, embedded): paragraphs, by chunk id, against the previous index.
Counts = tuple[int, int, int, int]


def build_from_scratch(index_dir: Path, diff: Difference, work: Work) -> tuple[Counts, Manifest]:
    """Index every article of ``diff`` into a new directory swapped in for ``index_dir``."""
    chunks, inputs, vectors, embedded = work.paragraphs(diff.added + diff.changed)
    ids = np.arange(len(chunks), dtype=np.int64)
    old = _live_chunks(index_dir)
    work.report("write", 0, 2)
    building = temporary_sibling(index_dir)
    building.mkdir()
    try:
        paragraphs = ParagraphStore(building / PARAGRAPHS_FILE, 1)
        paragraphs.write(1, dict(zip(ids.tolist(), chunks, strict=True)), [])
        paragraphs.close()
        manifest = _commit(
            building,
            _fresh_manifest(work, len(chunks)),
            FaissDenseStore.build(ids, vectors),
            Bm25Store.build(ids, inputs),
            diff,
        )
        work.report("write", 1, 2)
        swap_into_place(building, index_dir)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    work.report("write", 2, 2)
    return (*_count(old, chunks), embedded), manifest


def apply_difference(
    index_dir: Path, stored: StoredIndex, diff: Difference, work: Work
) -> tuple[Counts, Manifest]:
    """Apply ``diff`` to the index ``stored`` (read from ``index_dir``) in place."""
    stored.paragraphs.rollback()
    affected = [a.article_id for a in diff.changed] + diff.removed
    old_ids = stored.paragraphs.ids_of(affected)
    old = stored.paragraphs.get(old_ids)
    chunks, inputs, vectors, embedded = work.paragraphs(diff.added + diff.changed)
    first = stored.manifest.next_id
    ids = np.arange(first, first + len(chunks), dtype=np.int64)
    work.report("write", 0, 2)
    stored.dense.remove(np.asarray(old_ids, np.int64))
    stored.dense.add(ids, vectors)
    stored.lexical.remove(np.asarray(old_ids, np.int64))
    stored.lexical.add(ids, inputs)
    generation = stored.manifest.generation + 1
    stored.paragraphs.write(generation, dict(zip(ids.tolist(), chunks, strict=True)), old_ids)
    work.report("write", 1, 2)
    manifest = _commit(
        index_dir,
        dataclasses.replace(stored.manifest, generation=generation, next_id=first + len(chunks)),
        stored.dense,
        stored.lexical,
        diff,
    )
    stored.paragraphs.purge(before=stored.manifest.generation)
    remove_unlisted(index_dir, manifest, stored.manifest)
    work.report("write", 2, 2)
    return (*_count({c.chunk_id: c.text for c in old}, chunks), embedded), manifest


def _commit(
    directory: Path,
    manifest: Manifest,
    dense: DenseStore,
    lexical: LexicalStore,
    diff: Difference,
) -> Manifest:
    """Save the stores under the manifest's generation, then write the manifest (the commit)."""
    tag = f"{manifest.generation:06d}"
    stores = {
        "dense": dense.save(directory, tag),
        "lexical": lexical.save(directory, tag),
        "sources": [write_sources(directory, tag, diff.sources)],
    }
    final = dataclasses.replace(
        manifest,
        count=dense.count,
        articles=diff.articles,
        built_at=datetime.now(UTC).isoformat(),
        vector_index=dense.kind,
        stores=stores,
        versions=_versions(),
    )
    return write_manifest(directory, final)


def _fresh_manifest(work: Work, count: int) -> Manifest:
    embedder = work.embedder
    return Manifest(
        model=embedder.name,
        fingerprint=embedder.fingerprint,
        dim=embedder.dim,
        count=count,
        articles=0,
        normalizer=NORMALIZER_VERSION,
        built_at="",
        vector_index="",
        settings={"max_chars": work.max_chars},
        generation=1,
        next_id=count,
    )


def _live_chunks(index_dir: Path) -> dict[str, str]:
    """Return chunk id -> text of the index being replaced (empty if there is none)."""
    path = index_dir / PARAGRAPHS_FILE
    if not path.is_file():
        return {}
    paragraphs = ParagraphStore(path, generation=0)
    try:
        return paragraphs.live_texts()
    finally:
        paragraphs.close()


def _count(old: dict[str, str], chunks: list[Chunk]) -> tuple[int, int, int]:
    """Count (added, changed, removed) chunks by id against ``old`` (id -> text)."""
    new = {c.chunk_id: c.text for c in chunks}
    added = sum(1 for key in new if key not in old)
    changed = sum(1 for key, text in new.items() if key in old and old[key] != text)
    return added, changed, sum(1 for key in old if key not in new)


def _versions() -> dict[str, str]:
    """Return the versions of the libraries that shape the index (read without importing them)."""
    versions = {}
    for name in ("vn-news-qa", "faiss-cpu", "sentence-transformers"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "unknown"
    return versions
