"""The saved index: a manifest naming the files of the dense store, the lexical index, the
paragraph store and the state of ``data/`` they were built from.

Layout of an index directory (names a human can ``cat``)::

    manifest.json          format, model + fingerprint, dim, counts, generation, next paragraph
                           id, the files of each store and their SHA-256 (corruption is detected)
    dense-<g>.faiss        unit vectors (exact up to APPROXIMATE_ABOVE, HNSW above), with
    dense-<g>-ids.npy      the paragraph id of each row, and dense-<g>-delta.npz: vectors added
                           since, and removed ids (see index.stores.dense)
    lexical-<g>-*.npy      BM25 postings: base and delta segments, removed ids (index.stores.bm25)
    paragraphs.sqlite      paragraph texts and metadata by id (index.paragraphs)
    sources-<g>.json       each data file's size, mtime, SHA-256 and article content hashes

``manifest.json`` is the commit point: an update writes new files under a new generation tag,
then replaces the manifest with one rename. A full build writes a temporary sibling directory
and swaps it into place, so a failed build never touches the index that is serving.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from index.errors import IndexNotBuiltError, ModelMismatchError
from index.paragraphs import PARAGRAPHS_FILE, ParagraphStore
from index.stores.base import DenseStore, LexicalStore
from index.stores.bm25 import Bm25Store
from index.stores.dense import FaissDenseStore

logger = logging.getLogger(__name__)

FORMAT = 2
MANIFEST_FILE = "manifest.json"
# (path, size, mtime_ns) -> SHA-256 of files this process already verified: a reload after an
# update hashes only the new files, not the unchanged base segments.
_VERIFIED: dict[tuple[str, int, int], str] = {}


@dataclass(frozen=True)
class Manifest:
    """What an index directory holds and how it was made.

    Attributes:
        model: the embedding model setting that built it; fingerprint: hash of its weights.
        dim: vector dimension. count: live paragraphs. articles: articles indexed.
        normalizer: ``index.text.NORMALIZER_VERSION`` at build time.
        built_at: ISO-8601 UTC time of the last build or update.
        vector_index: FAISS class of the dense base segment.
        files: SHA-256 of every file named in ``stores``.
        settings: chunking settings (``max_chars``). versions: library versions.
        generation: incremented by every update; names the files it wrote.
        next_id: the paragraph id the next added paragraph gets (ids are never reused).
        stores: file names of each part: ``dense``, ``lexical``, ``sources``.
    """

    model: str
    fingerprint: str
    dim: int
    count: int
    articles: int
    normalizer: int
    built_at: str
    vector_index: str
    files: dict[str, str] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    format: int = FORMAT
    generation: int = 0
    next_id: int = 0
    stores: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class StoredIndex:
    """An index read back from disk: its manifest and its three stores."""

    manifest: Manifest
    dense: DenseStore
    lexical: LexicalStore
    paragraphs: ParagraphStore


def rebuild_hint(directory: Path) -> str:
    """Return the command that rebuilds the index in ``directory``."""
    return f"Rebuild it with: python -m index build --full --index-dir {directory}"


def write_manifest(directory: Path, manifest: Manifest) -> Manifest:
    """Checksum the store files and replace ``manifest.json`` atomically; return the manifest."""
    names = [name for names in manifest.stores.values() for name in names]
    final = dataclasses.replace(manifest, files={n: _digest(directory / n) for n in names})
    text = json.dumps(dataclasses.asdict(final), ensure_ascii=False, indent=2) + "\n"
    partial = directory / f".{MANIFEST_FILE}.{uuid.uuid4().hex[:8]}"
    with partial.open("w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, directory / MANIFEST_FILE)
    return final


def read_manifest(directory: Path) -> Manifest:
    """Read and validate ``manifest.json``; raise IndexNotBuiltError if missing or unreadable."""
    path = directory / MANIFEST_FILE
    if not path.is_file():
        raise IndexNotBuiltError(
            f"No index in {directory}. Build it with: python -m index build"
            f" --index-dir {directory}"
        )
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        manifest = Manifest(**raw)
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise IndexNotBuiltError(
            f"{path} is unreadable ({exc}). {rebuild_hint(directory)}"
        ) from None
    if manifest.format != FORMAT:
        raise IndexNotBuiltError(
            f"{directory} has index format {manifest.format}, this version "
            f"reads format {FORMAT}. {rebuild_hint(directory)}"
        )
    return manifest


def check_model(
    manifest: Manifest, directory: Path, model: str, fingerprint: str, dim: int
) -> None:
    """Refuse an index built by another model (name, weights or dimension)."""
    if (manifest.model, manifest.fingerprint, manifest.dim) != (model, fingerprint, dim):
        raise ModelMismatchError(
            f"{directory} was built with model {manifest.model} (dim {manifest.dim}, weights "
            f"{manifest.fingerprint[:12]}) but the configured model is {model} (dim {dim}, "
            f"weights {fingerprint[:12]}). {rebuild_hint(directory)}, or set "
            f"EMBEDDING_MODEL={manifest.model}."
        )


def read_index(directory: Path, lazy: bool = False) -> StoredIndex:
    """Read an index, verifying every file against the manifest's checksums and counts.

    ``lazy`` defers reading the dense base index until it is needed (an update that only
    adds to the delta never needs it).

    Raises:
        IndexNotBuiltError: missing, corrupt or inconsistent files.
    """
    manifest = read_manifest(directory)
    for name, digest in manifest.files.items():
        path = directory / name
        if not path.is_file() or _digest(path) != digest:
            raise IndexNotBuiltError(
                f"{path} is missing or corrupt (checksum mismatch). {rebuild_hint(directory)}"
            )
    try:
        dense = FaissDenseStore.load(directory, manifest.stores["dense"], lazy)
        lexical = Bm25Store.load(directory, manifest.stores["lexical"])
    except (RuntimeError, ValueError, TypeError, OSError, KeyError) as exc:
        raise IndexNotBuiltError(
            f"{directory} could not be read ({exc}). {rebuild_hint(directory)}"
        ) from None
    if len({manifest.count, dense.count, lexical.count}) != 1 or dense.dim != manifest.dim:
        raise IndexNotBuiltError(
            f"{directory} is inconsistent (manifest, vectors and BM25 disagree on the count "
            f"or dimension). {rebuild_hint(directory)}"
        )
    paragraphs = ParagraphStore(directory / PARAGRAPHS_FILE, manifest.generation)
    return StoredIndex(manifest, dense, lexical, paragraphs)


def remove_unlisted(directory: Path, *manifests: Manifest) -> None:
    """Delete store files that none of ``manifests`` names (debris of older generations)."""
    keep = {n for m in manifests for names in m.stores.values() for n in names}
    keep |= {MANIFEST_FILE, PARAGRAPHS_FILE, f"{PARAGRAPHS_FILE}-wal", f"{PARAGRAPHS_FILE}-shm"}
    for path in directory.iterdir():
        if path.is_file() and path.name not in keep:
            path.unlink(missing_ok=True)


def temporary_sibling(directory: Path) -> Path:
    """Return a fresh, not yet existing directory next to ``directory`` to build into."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    return directory.parent / f".{directory.name}.building-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def swap_into_place(built: Path, directory: Path) -> None:
    """Replace ``directory`` by ``built`` with two renames; the old one is removed afterwards."""
    retired = directory.parent / f".{directory.name}.old-{uuid.uuid4().hex[:8]}"
    if directory.exists():
        os.replace(directory, retired)
    os.replace(built, directory)
    shutil.rmtree(retired, ignore_errors=True)


def _digest(path: Path) -> str:
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _VERIFIED:
        _VERIFIED[key] = file_sha256(path)
    return _VERIFIED[key]


def file_sha256(path: Path) -> str:
    """Return the SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
