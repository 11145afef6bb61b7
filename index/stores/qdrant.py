"""Qdrant behind the storage seam: one point per paragraph, dense + our sparse lexical vectors.

A point (id = paragraph id) holds the unit ``dense`` vector, two sparse vectors over our own
terms (``index.lexical.terms``, BLAKE2b-hashed as ``index.stores.postings`` does and cut to the
32 bits Qdrant's sparse indices take): ``lexical``, the BM25 term weight
``tf (k1 + 1) / (tf + k1 (1 - b + b len / avgdl))`` searched with Qdrant's IDF modifier (whose
IDF, ``ln(1 + (N - df + 0.5) / (df + 0.5))``, is ours), and ``counts``, the raw term counts;
and the chunk as payload with its text hash and length in terms.

Candidates of both legs come in one ``query_batch_points`` call; the union is then scored
exactly as the embedded stores score it (cosine; BM25 from the counts, the live N, average
length and document frequencies), so the fusion and no-answer decision of ``index.search``
see the same numbers. Document frequencies, N and the total length live in a second
collection, ``<collection>-terms`` (``BUCKETS`` points, payload ``df``: term index -> count;
a meta point holds N, the total length and the manifest), kept exact by
``index.stores.qdrantsync`` on every write.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from index.errors import RetrievalError, SearchUnavailableError
from index.lexical import terms
from index.models import Chunk
from index.stores.base import ID_DTYPE, Scored
from index.stores.bm25 import DEFAULT_B, DEFAULT_K1
from index.stores.postings import term_hashes

logger = logging.getLogger(__name__)

# Document frequencies are kept in BUCKETS points of ``<collection>-terms`` (payload ``df``:
# term index -> count): one point per term cost ~7 ms per write in Qdrant's local mode on disk
# (an SQLite commit each), 25 minutes for the 200,000 terms of the dev set.
BUCKETS = 1024
META_ID = BUCKETS  # the point after the buckets
DENSE, LEXICAL, COUNTS = "dense", "lexical", "counts"
CACHED_POINTS = 5_000
META_TTL_S = 30.0


def term_indices(words: Iterable[str]) -> np.ndarray:
    """Return the 32-bit sparse index of each term, in order (``uint32``)."""
    return (term_hashes(words) & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def bucket_of(index: int) -> int:
    """Return the point of ``<collection>-terms`` holding the frequency of a term index."""
    return index % BUCKETS


def sparse_counts(text: str) -> tuple[np.ndarray, np.ndarray, int]:
    """Return (sorted term indices, their counts, number of terms) of a paragraph's text."""
    found = terms(text)
    indices, counts = np.unique(term_indices(found), return_counts=True)
    return indices, counts.astype(np.float32), len(found)


@dataclass(frozen=True)
class Meta:
    """Corpus statistics and the manifest of the index in a collection."""

    count: int
    total_length: int
    manifest: dict[str, Any]

    @property
    def average_length(self) -> float:
        """Return the mean paragraph length in terms (1.0 for an empty corpus, as BM25 does)."""
        mean = self.total_length / self.count if self.count else 0.0
        return mean if mean > 0 else 1.0


@dataclass(frozen=True)
class Point:
    """What a search needs of one stored point."""

    vector: np.ndarray
    counts: dict[int, float]
    length: int
    chunk: Chunk


class QdrantCollection:
    """The client, the collection names, the corpus statistics and a cache of points by id.

    Paragraph ids are never reused, so a point read once never changes: the cache needs no
    invalidation.
    """

    def __init__(self, client: Any, name: str, meta: Meta) -> None:
        """Serve collection ``name`` (and ``name-terms``) of ``client``."""
        self.client, self.name, self.terms_name = client, name, f"{name}-terms"
        self._meta, self._meta_at = meta, time.monotonic()
        self._points: dict[int, Point] = {}
        self._lock = threading.Lock()
        self._failing = False

    @property
    def meta(self) -> Meta:
        """Return N, total length and manifest, read again when older than ``META_TTL_S``.

        Another process (the builder) updates the collection: a replica sees its new N and
        mean length within ``META_TTL_S`` without reloading.
        """
        if time.monotonic() - self._meta_at > META_TTL_S:
            found = self.call("retrieve", self.terms_name, [META_ID], with_payload=True)
            if found and not found[0].payload["manifest"].get("writing"):
                payload = found[0].payload
                self._meta = Meta(
                    int(payload["count"]), int(payload["total_length"]), payload["manifest"]
                )
            self._meta_at = time.monotonic()
        return self._meta

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Run ``client.<method>``; a failure becomes SearchUnavailableError, logged once.

        The first failure of an outage is logged (one line, no traceback); the first success
        after it is logged too, so a log shows each outage once however many questions hit it.
        """
        try:
            answer = getattr(self.client, method)(*args, **kwargs)
        except RetrievalError:
            raise
        except Exception as exc:
            if not self._failing:
                logger.warning("Qdrant %s failed: %s: %s", method, type(exc).__name__, exc)
            self._failing = True
            raise SearchUnavailableError(f"Qdrant did not answer ({type(exc).__name__})") from None
        if self._failing:
            logger.warning("Qdrant answers again")
            self._failing = False
        return answer

    def points(self, ids: np.ndarray) -> list[Point]:
        """Return the points of ``ids`` in order; raise KeyError for an id not stored."""
        wanted = [int(i) for i in ids]
        with self._lock:
            known = {i: self._points[i] for i in wanted if i in self._points}
        missing = [i for i in dict.fromkeys(wanted) if i not in known]
        if missing:
            records = self.call(
                "retrieve", self.name, missing, with_payload=True, with_vectors=[DENSE, COUNTS]
            )
            fresh = {int(r.id): _point(r) for r in records}
            known.update(fresh)
            with self._lock:
                if len(self._points) + len(fresh) > CACHED_POINTS:
                    self._points.clear()
                self._points.update(fresh)
        absent = [i for i in wanted if i not in known]
        if absent:
            raise KeyError(f"paragraphs {absent} are not in Qdrant collection {self.name}")
        return [known[i] for i in wanted]

    def frequencies(self, indices: np.ndarray) -> np.ndarray:
        """Return the live document frequency of each term index (0 when unknown)."""
        buckets = sorted({bucket_of(int(i)) for i in indices})
        records = self.call("retrieve", self.terms_name, buckets, with_payload=True)
        found = {int(key): df for r in records for key, df in r.payload["df"].items()}
        return np.array([found.get(int(i), 0) for i in indices], np.int64)


class QdrantDense:
    """``DenseStore`` over a collection; also answers both legs at once (:meth:`candidates`)."""

    def __init__(self, collection: QdrantCollection, dim: int) -> None:
        """Read vectors of ``dim`` dimensions from ``collection``."""
        self.collection, self.dim = collection, dim

    @property
    def kind(self) -> str:
        """Return what serves the vectors."""
        return "qdrant"

    @property
    def count(self) -> int:
        """Return how many paragraphs the collection held when it was opened."""
        return self.collection.meta.count

    def search(self, vector: np.ndarray, k: int) -> Scored:
        """Return up to ``k`` nearest ids by cosine (dot product of unit vectors)."""
        found = self.collection.call(
            "query_points", self.collection.name, query=_floats(vector), using=DENSE, limit=k
        )
        return _scored(found.points)

    def candidates(self, text: str, vector: np.ndarray, k: int) -> tuple[np.ndarray, ...]:
        """Return (ids, cosines, BM25) of the union of both legs' top ``k``, in one round trip."""
        from qdrant_client import models

        requests = [models.QueryRequest(query=_floats(vector), using=DENSE, limit=k)]
        sparse = _query_sparse(text)
        if sparse is not None:
            requests.append(models.QueryRequest(query=sparse, using=LEXICAL, limit=k))
        answers = self.collection.call("query_batch_points", self.collection.name, requests)
        ids = np.unique(np.concatenate([_scored(a.points).ids for a in answers]))
        points = self.collection.points(ids)
        lexical = QdrantLexical(self.collection)
        return ids, _cosines(points, vector), lexical.bm25(points, text)

    def score(self, ids: np.ndarray, vector: np.ndarray) -> np.ndarray:
        """Return the cosine of ``vector`` with each of ``ids``; KeyError for unknown ids."""
        return _cosines(self.collection.points(ids), vector)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Refuse: a collection is written by ``index.stores.qdrantsync`` only."""
        raise NotImplementedError("write a Qdrant collection with index.stores.qdrantsync")

    def remove(self, ids: np.ndarray) -> None:
        """Refuse: a collection is written by ``index.stores.qdrantsync`` only."""
        raise NotImplementedError("write a Qdrant collection with index.stores.qdrantsync")

    def save(self, directory: Any, tag: str) -> list[str]:
        """Write nothing: Qdrant persists its own data."""
        return []


class QdrantLexical:
    """``LexicalStore`` over a collection: Vietnamese BM25 with exact df, N and mean length."""

    def __init__(self, collection: QdrantCollection, k1: float = DEFAULT_K1, b: float = DEFAULT_B):
        """Score with BM25 parameters ``k1`` and ``b`` (those of ``index.stores.bm25``)."""
        self.collection, self.k1, self.b = collection, k1, b

    @property
    def count(self) -> int:
        """Return how many paragraphs are indexed (the N of IDF)."""
        return self.collection.meta.count

    def search(self, query: str, k: int) -> Scored:
        """Return up to ``k`` paragraphs sharing a term with ``query``, by BM25 (exact)."""
        sparse = _query_sparse(query)
        if sparse is None:
            return Scored.empty()
        found = self.collection.call(
            "query_points", self.collection.name, query=sparse, using=LEXICAL, limit=k
        )
        ids = _scored(found.points).ids
        scores = self.score(ids, query)
        order = np.argsort(-scores, kind="stable")
        return Scored(ids[order], scores[order])

    def score(self, ids: np.ndarray, query: str) -> np.ndarray:
        """Return the BM25 score of ``query`` for each of ``ids`` (0 for unknown ids)."""
        ids = np.asarray(ids, ID_DTYPE)
        try:
            return self.bm25(self.collection.points(ids), query)
        except KeyError:
            known = self.collection.call("retrieve", self.collection.name, ids.tolist())
            present = {int(r.id) for r in known}
            out = np.zeros(len(ids), np.float32)
            inside = np.array([int(i) in present for i in ids], bool)
            out[inside] = self.bm25(self.collection.points(ids[inside]), query)
            return out

    def bm25(self, points: list[Point], query: str) -> np.ndarray:
        """Return the BM25 score of ``query`` for each point, as ``index.stores.bm25`` does."""
        indices = np.unique(term_indices(dict.fromkeys(terms(query))))
        out = np.zeros(len(points), np.float64)
        if not len(indices) or not points:
            return out.astype(np.float32)
        frequencies = self.collection.frequencies(indices).astype(np.float64)
        count = self.collection.meta.count
        idf = np.log1p((count - frequencies + 0.5) / (frequencies + 0.5))
        average = self.collection.meta.average_length
        for row, point in enumerate(points):
            tf = np.array([point.counts.get(int(i), 0.0) for i in indices])
            norm = self.k1 * (1 - self.b + self.b * point.length / average)
            out[row] = float(np.sum(idf * (self.k1 + 1) * tf / (tf + norm)))
        return out.astype(np.float32)

    def document_frequencies(self, words: Iterable[str]) -> dict[str, int]:
        """Return how many live paragraphs contain each index term (0 for unknown terms)."""
        wanted = list(dict.fromkeys(words))
        if not wanted:
            return {}
        counts = self.collection.frequencies(term_indices(wanted))
        return {t: int(c) for t, c in zip(wanted, counts, strict=True)}

    def presence(self, ids: np.ndarray, words: list[str]) -> np.ndarray:
        """Return whether each paragraph of ``ids`` holds each term, ``(len(ids), len(terms))``."""
        indices = term_indices(words)
        points = self.collection.points(np.asarray(ids, ID_DTYPE))
        return np.array([[int(i) in p.counts for i in indices] for p in points], bool).reshape(
            len(points), len(words)
        )

    def add(self, ids: np.ndarray, texts: list[str]) -> None:
        """Refuse: a collection is written by ``index.stores.qdrantsync`` only."""
        raise NotImplementedError("write a Qdrant collection with index.stores.qdrantsync")

    def remove(self, ids: np.ndarray) -> None:
        """Refuse: a collection is written by ``index.stores.qdrantsync`` only."""
        raise NotImplementedError("write a Qdrant collection with index.stores.qdrantsync")

    def save(self, directory: Any, tag: str) -> list[str]:
        """Write nothing: Qdrant persists its own data."""
        return []


class QdrantParagraphs:
    """``ParagraphSource`` from the points' payload."""

    def __init__(self, collection: QdrantCollection) -> None:
        """Read chunks from ``collection``."""
        self.collection = collection

    def get(self, ids: list[int]) -> list[Chunk]:
        """Return the chunks of ``ids`` in order; KeyError for an unknown id."""
        return [p.chunk for p in self.collection.points(np.asarray(ids, ID_DTYPE))]

    def at(self, article_id: str, position: int) -> Chunk | None:
        """Return the chunk at ``position`` (0-based) of an article, or None."""
        from qdrant_client import models

        match = models.Filter(
            must=[
                models.FieldCondition(key="article_id", match=models.MatchValue(value=article_id)),
                models.FieldCondition(key="position", match=models.MatchValue(value=position)),
            ]
        )
        records, _ = self.collection.call(
            "scroll", self.collection.name, scroll_filter=match, limit=1, with_payload=True
        )
        return _chunk(records[0].payload) if records else None

    def close(self) -> None:
        """Nothing to close: the client is shared."""


def chunk_payload(chunk: Chunk, text_hash: str, length: int) -> dict[str, Any]:
    """Return the payload of a paragraph's point."""
    return {**chunk.__dict__, "text_hash": text_hash, "length": length}


def _chunk(payload: dict[str, Any]) -> Chunk:
    fields = {k: v for k, v in payload.items() if k in Chunk.__dataclass_fields__}
    return Chunk(**fields)


def _point(record: Any) -> Point:
    counts = record.vector.get(COUNTS)
    pairs = dict(zip(counts.indices, counts.values, strict=True)) if counts else {}
    payload = record.payload
    return Point(
        np.asarray(record.vector[DENSE], np.float32),
        pairs,
        int(payload["length"]),
        _chunk(payload),
    )


def _cosines(points: list[Point], vector: np.ndarray) -> np.ndarray:
    if not points:
        return np.zeros(0, np.float32)
    return (np.stack([p.vector for p in points]) @ np.asarray(vector, np.float32)).astype(
        np.float32
    )


def _query_sparse(text: str) -> Any:
    from qdrant_client import models

    indices = np.unique(term_indices(dict.fromkeys(terms(text))))
    if not len(indices):
        return None
    return models.SparseVector(indices=indices.tolist(), values=[1.0] * len(indices))


def _floats(vector: np.ndarray) -> list[float]:
    return np.asarray(vector, np.float32).tolist()


def _scored(points: list[Any]) -> Scored:
    ids = np.array([int(p.id) for p in points], ID_DTYPE)
    return Scored(ids, np.array([p.score for p in points], np.float32))
