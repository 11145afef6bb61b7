"""The saved index: FAISS vectors, chunks, BM25 matrix and a manifest that describes them.

Layout of an index directory (names a human can ``cat``)::

    manifest.json        format, model + fingerprint, dim, counts, normaliser version, build time,
                         SHA-256 of every other file (a corrupt or truncated file is detected)
    index.faiss          unit vectors, row = chunk position (exact; HNSW above APPROXIMATE_ABOVE)
    chunks.jsonl         the chunks, same order
    lexical.npz, lexical_vocab.json   the BM25 matrix and its vocabulary

Builds are written to a temporary sibling directory and swapped into place, so a failed build
never touches the index that is serving.
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

import faiss
import numpy as np

from index.errors import IndexNotBuiltError, ModelMismatchError
from index.lexical import LexicalIndex
from index.models import Chunk

logger = logging.getLogger(__name__)

FORMAT = 1
MANIFEST_FILE = "manifest.json"
VECTORS_FILE = "index.faiss"
CHUNKS_FILE = "chunks.jsonl"
# Exact search up to this many vectors, HNSW above: on 2 cores exact search costs ~0.25 ms per
# 1,000 vectors (p95 26.6 ms at 100,000; HNSW 2.4 ms), so the 5 ms budget ends near 20,000.
APPROXIMATE_ABOVE = 20_000
HNSW_NEIGHBOURS = 32
HNSW_EF_SEARCH = 96


@dataclass(frozen=True)
class Manifest:
    """What an index directory holds and how it was made."""

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


@dataclass
class StoredIndex:
    """An index read back from disk."""

    manifest: Manifest
    chunks: list[Chunk]
    vectors: faiss.Index
    lexical: LexicalIndex


def stored_vectors(index: faiss.Index) -> np.ndarray:
    """Return the unit vectors inside a flat or HNSW-flat index as a (n, dim) view, no copy."""
    flat: Any = (
        faiss.downcast_index(index.storage) if isinstance(index, faiss.IndexHNSW) else index
    )
    if flat.ntotal == 0:
        return np.zeros((0, flat.d), dtype=np.float32)
    return faiss.rev_swig_ptr(flat.get_xb(), flat.ntotal * flat.d).reshape(flat.ntotal, flat.d)


def rebuild_hint(directory: Path) -> str:
    """Return the command that rebuilds the index in ``directory``."""
    return f"Rebuild it with: python -m index build --index-dir {directory}"


def make_vector_index(vectors: np.ndarray, approximate: bool | None = None) -> faiss.Index:
    """Return a FAISS inner-product index over unit vectors: exact, or HNSW when large."""
    dim = vectors.shape[1]
    if approximate is None:
        approximate = len(vectors) > APPROXIMATE_ABOVE
    index: faiss.Index = faiss.IndexFlatIP(dim)
    if approximate:
        hnsw = faiss.IndexHNSWFlat(dim, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = 80
        hnsw.hnsw.efSearch = HNSW_EF_SEARCH
        index = hnsw
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def write_index(
    directory: Path,
    chunks: list[Chunk],
    vectors: np.ndarray,
    lexical: LexicalIndex,
    manifest: Manifest,
) -> Manifest:
    """Write every file of an index into a new ``directory``; return the final manifest."""
    directory.mkdir(parents=True)
    vector_index = make_vector_index(vectors)
    faiss.write_index(vector_index, str(directory / VECTORS_FILE))
    with (directory / CHUNKS_FILE).open("w", encoding="utf-8") as out:
        for chunk in chunks:
            out.write(json.dumps(dataclasses.asdict(chunk), ensure_ascii=False) + "\n")
    names = [VECTORS_FILE, CHUNKS_FILE, *lexical.save(directory)]
    final = dataclasses.replace(
        manifest,
        count=len(chunks),
        vector_index=type(vector_index).__name__,
        files={name: _sha256(directory / name) for name in names},
    )
    text = json.dumps(dataclasses.asdict(final), ensure_ascii=False, indent=2)
    (directory / MANIFEST_FILE).write_text(text + "\n", encoding="utf-8")
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


def read_index(directory: Path) -> StoredIndex:
    """Read an index, verifying every file against the manifest's checksums and counts."""
    manifest = read_manifest(directory)
    for name, digest in manifest.files.items():
        path = directory / name
        if not path.is_file() or _sha256(path) != digest:
            raise IndexNotBuiltError(
                f"{path} is missing or corrupt (checksum mismatch). {rebuild_hint(directory)}"
            )
    try:
        vectors = faiss.read_index(str(directory / VECTORS_FILE))
        chunks = read_chunks(directory)
        lexical = LexicalIndex.load(directory)
    except (RuntimeError, ValueError, TypeError, OSError, KeyError) as exc:
        raise IndexNotBuiltError(
            f"{directory} could not be read ({exc}). {rebuild_hint(directory)}"
        ) from None
    counts = {manifest.count, len(chunks), vectors.ntotal, lexical.matrix.shape[0]}
    if len(counts) != 1 or vectors.d != manifest.dim:
        raise IndexNotBuiltError(
            f"{directory} is inconsistent (manifest, chunks, vectors and BM25 "
            f"disagree on the count or dimension). {rebuild_hint(directory)}"
        )
    if isinstance(vectors, faiss.IndexHNSWFlat):
        vectors.hnsw.efSearch = HNSW_EF_SEARCH
    return StoredIndex(manifest, chunks, vectors, lexical)


def read_chunks(directory: Path) -> list[Chunk]:
    """Read ``chunks.jsonl`` of an index (no checksum check; see :func:`read_index`)."""
    path = directory / CHUNKS_FILE
    if not path.is_file():
        raise IndexNotBuiltError(f"No index in {directory}. {rebuild_hint(directory)}")
    try:
        return [
            Chunk(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines()
        ]
    except (ValueError, TypeError) as exc:
        raise IndexNotBuiltError(f"{path} is corrupt ({exc}). {rebuild_hint(directory)}") from None


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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
