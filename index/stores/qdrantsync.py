"""Connect to Qdrant, mirror an embedded index into a collection, and open it for search.

The embedded index (``index.store``) stays the writer's record of what ``data/`` holds: a build
or update applies the difference there, then :func:`mirror` brings the collection to the same
paragraph ids (new points first, then the old ones deleted, so a failed run leaves the
collection serving what it served before), with no embedding: the vectors come from the FAISS
store. Running it twice changes nothing. Document frequencies, N and the total length are
adjusted by the same difference; a run that died half way is noticed (``writing`` flag in the
meta point) and the next run recounts them from the points.
"""

from __future__ import annotations

import atexit
import dataclasses
import hashlib
import logging
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from index.errors import IndexNotBuiltError, RetrievalError, SearchUnavailableError
from index.paragraphing import chunk_input
from index.settings import SettingsError, StoreSettings
from index.store import Manifest, StoredIndex
from index.stores.bm25 import DEFAULT_B, DEFAULT_K1
from index.stores.dense import FaissDenseStore
from index.stores.qdrant import (
    COUNTS,
    DENSE,
    LEXICAL,
    META_ID,
    Meta,
    QdrantCollection,
    QdrantDense,
    QdrantLexical,
    QdrantParagraphs,
    bucket_of,
    chunk_payload,
    sparse_counts,
)

logger = logging.getLogger(__name__)

BATCH = 1_000
_CLIENTS: dict[StoreSettings, Any] = {}
_CONNECTING = threading.Lock()


@dataclass(frozen=True)
class MirrorReport:
    """What :func:`mirror` did: points written and deleted, points held afterwards."""

    added: int
    removed: int
    count: int


def connect(settings: StoreSettings) -> Any:
    """Return the (process-wide) client of ``settings``, checked with one request.

    Raises:
        SettingsError: qdrant-client is not installed.
        SearchUnavailableError: the server does not answer (the message says how to check).
    """
    try:
        from qdrant_client import QdrantClient
    except ImportError:
        raise SettingsError(
            'VECTOR_STORE=qdrant needs qdrant-client: pip install -e ".[qdrant]"'
        ) from None
    with _CONNECTING:
        if settings not in _CLIENTS:
            if settings.url:
                client = QdrantClient(
                    url=settings.url,
                    api_key=settings.api_key or None,
                    timeout=int(settings.timeout),
                    check_compatibility=False,  # its thread warns; get_collections checks
                )
            else:
                client = QdrantClient(path=settings.path or ":memory:")
            guarded(settings, client.get_collections)
            if not _CLIENTS:
                atexit.register(_close_clients)
            _CLIENTS[settings] = client
    return _CLIENTS[settings]


def _close_clients() -> None:
    """Close the clients before the interpreter tears down the modules they use."""
    for client in _CLIENTS.values():
        client.close()
    _CLIENTS.clear()


def guarded(settings: StoreSettings, call: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a client call; turn a failure into one SearchUnavailableError naming the server."""
    try:
        return call(*args, **kwargs)
    except (RetrievalError, ValueError, KeyError):
        raise
    except Exception as exc:
        hint = f" Check it with: curl {settings.url}/readyz" if settings.url else ""
        raise SearchUnavailableError(
            f"Qdrant at {settings.where} did not answer ({type(exc).__name__}).{hint}"
        ) from None


def open_stored(client: Any, collection: str) -> StoredIndex:
    """Return the index held by ``collection`` as the stores ``index.search`` reads.

    Raises:
        IndexNotBuiltError: the collection does not exist or holds no index.
    """
    meta = read_meta(client, collection)
    if meta is None or not meta.manifest:
        raise IndexNotBuiltError(
            f"Qdrant collection {collection!r} holds no index. Build one with "
            "VECTOR_STORE=qdrant python -m index build, or copy the embedded index with "
            "python -m index migrate --to qdrant."
        )
    manifest = Manifest(**{k: v for k, v in meta.manifest.items() if k != "writing"})
    shared = QdrantCollection(client, collection, meta)
    dense = QdrantDense(shared, manifest.dim)
    return StoredIndex(manifest, dense, QdrantLexical(shared), QdrantParagraphs(shared))  # type: ignore[arg-type]


def read_meta(client: Any, collection: str) -> Meta | None:
    """Return the statistics and manifest of ``collection``, or None if it has none."""
    if not client.collection_exists(f"{collection}-terms"):
        return None
    found = client.retrieve(f"{collection}-terms", [META_ID], with_payload=True)
    if not found:
        return None
    payload = found[0].payload
    return Meta(int(payload["count"]), int(payload["total_length"]), payload["manifest"])


def mirror(stored: StoredIndex, client: Any, settings: StoreSettings) -> MirrorReport:
    """Bring ``settings.collection`` to the paragraphs of ``stored``; return what changed.

    Raises:
        RetrievalError: the counts disagree afterwards (the message says what to run).
    """
    if not isinstance(stored.dense, FaissDenseStore):
        raise RetrievalError("mirror copies from the embedded FAISS index only")
    name = settings.collection
    _ensure(client, settings, stored.manifest.dim)
    local = stored.paragraphs.live_ids()
    remote = _remote_ids(client, name)
    new = np.array(sorted(set(local) - remote), np.int64)
    gone = sorted(remote - set(local))
    meta = read_meta(client, name)
    if meta is None or meta.manifest.get("writing"):
        meta = _recount(client, name)
    _write_meta(client, name, meta, writing=True)
    chunks = stored.paragraphs.get(new.tolist())
    sparse = [sparse_counts(chunk_input(c)) for c in chunks]
    gone_points = client.retrieve(name, gone, with_payload=["length"], with_vectors=[COUNTS])
    total = meta.total_length + sum(s[2] for s in sparse)
    total -= sum(int(p.payload["length"]) for p in gone_points)
    after = Meta(len(local), total, dataclasses.asdict(stored.manifest))
    for start in range(0, len(new), BATCH):
        part = slice(start, start + BATCH)
        vectors = stored.dense.vectors(new[part])
        points = [
            _point(int(i), v, c, s, after.average_length)
            for i, v, c, s in zip(new[part], vectors, chunks[part], sparse[part], strict=True)
        ]
        client.upsert(name, points)
    delta: Counter[int] = Counter()
    for indices, _, _ in sparse:
        delta.update(indices.tolist())
    for point in gone_points:
        delta.subtract(point.vector[COUNTS].indices if point.vector.get(COUNTS) else [])
    _add_frequencies(client, f"{name}-terms", delta)
    if gone:
        client.delete(name, gone)
    _write_meta(client, name, after, writing=False)
    held = client.count(name, exact=True).count
    if held != len(local):
        raise RetrievalError(
            f"Qdrant collection {name!r} holds {held} points but the index has {len(local)} "
            "paragraphs; run python -m index migrate --to qdrant again."
        )
    return MirrorReport(len(new), len(gone), held)


def _ensure(client: Any, settings: StoreSettings, dim: int) -> None:
    from qdrant_client import models

    name = settings.collection
    if not client.collection_exists(name):
        client.create_collection(
            name,
            vectors_config={DENSE: models.VectorParams(size=dim, distance=models.Distance.DOT)},
            sparse_vectors_config={
                LEXICAL: models.SparseVectorParams(modifier=models.Modifier.IDF),
                COUNTS: models.SparseVectorParams(),
            },
            shard_number=settings.shards,
            replication_factor=settings.replicas,
        )
        # Local mode filters without indexes (and warns about them): a server only.
        fields = (
            ()
            if not settings.url
            else (
                ("article_id", models.PayloadSchemaType.KEYWORD),
                ("position", models.PayloadSchemaType.INTEGER),
                ("source", models.PayloadSchemaType.KEYWORD),
                ("date", models.PayloadSchemaType.KEYWORD),
            )
        )
        for field, kind in fields:
            client.create_payload_index(name, field, kind)
    if not client.collection_exists(f"{name}-terms"):
        client.create_collection(
            f"{name}-terms",
            vectors_config={},
            shard_number=settings.shards,
            replication_factor=settings.replicas,
        )


def _point(
    pid: int,
    vector: np.ndarray,
    chunk: Any,
    sparse: tuple[np.ndarray, np.ndarray, int],
    avg: float,
) -> Any:
    from qdrant_client import models

    indices, counts, length = sparse
    norm = DEFAULT_K1 * (1 - DEFAULT_B + DEFAULT_B * length / avg)
    weights = counts * (DEFAULT_K1 + 1) / (counts + norm)
    text_hash = hashlib.sha256(chunk.text.encode()).hexdigest()
    return models.PointStruct(
        id=pid,
        vector={
            DENSE: vector.astype(np.float32).tolist(),
            LEXICAL: models.SparseVector(indices=indices.tolist(), values=weights.tolist()),
            COUNTS: models.SparseVector(indices=indices.tolist(), values=counts.tolist()),
        },
        payload=chunk_payload(chunk, text_hash, length),
    )


def _remote_ids(client: Any, name: str) -> set[int]:
    ids: set[int] = set()
    offset = None
    while True:
        records, offset = client.scroll(
            name, limit=10_000, offset=offset, with_payload=False, with_vectors=False
        )
        ids.update(int(r.id) for r in records)
        if offset is None:
            return ids


def _recount(client: Any, name: str) -> Meta:
    """Recount document frequencies, N and total length from the points (after a failed run)."""
    from qdrant_client import models

    frequencies: Counter[int] = Counter()
    count = total = 0
    offset = None
    while True:
        records, offset = client.scroll(
            name, limit=2_000, offset=offset, with_payload=["length"], with_vectors=[COUNTS]
        )
        for record in records:
            frequencies.update(record.vector[COUNTS].indices)
            count, total = count + 1, total + int(record.payload["length"])
        if offset is None:
            break
    terms = f"{name}-terms"
    client.delete(terms, models.Filter(must_not=[models.HasIdCondition(has_id=[META_ID])]))
    _add_frequencies(client, terms, frequencies)
    return Meta(count, total, {})


def _add_frequencies(client: Any, terms: str, delta: Counter[int]) -> None:
    """Add ``delta`` (term index -> change) to the document frequencies, bucket by bucket."""
    from qdrant_client import models

    changes: dict[int, dict[int, int]] = {}
    for key, change in delta.items():
        if change:
            changes.setdefault(bucket_of(key), {})[key] = change
    for start in range(0, len(changes), 64):
        part = sorted(changes)[start : start + 64]
        old = {int(r.id): r.payload["df"] for r in client.retrieve(terms, part)}
        points = []
        for bucket in part:
            frequencies = {int(k): int(v) for k, v in old.get(bucket, {}).items()}
            for key, change in changes[bucket].items():
                frequencies[key] = frequencies.get(key, 0) + change
            live = {str(k): v for k, v in frequencies.items() if v > 0}
            points.append(models.PointStruct(id=bucket, vector={}, payload={"df": live}))
        client.upsert(terms, points)


def _write_meta(client: Any, name: str, meta: Meta, writing: bool) -> None:
    from qdrant_client import models

    manifest = {**meta.manifest, "writing": True} if writing else meta.manifest
    payload = {"count": meta.count, "total_length": meta.total_length, "manifest": manifest}
    client.upsert(f"{name}-terms", [models.PointStruct(id=META_ID, vector={}, payload=payload)])
