"""Hybrid search: FAISS (dense) and BM25 (lexical) candidates, fused, with a no-answer decision."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from index.embedding import Embedder
from index.models import Chunk, Hit
from index.store import Manifest, StoredIndex
from index.text import canonical_text, token_spans, tokenize

logger = logging.getLogger(__name__)

DEFAULT_TOP_K = 3
CANDIDATES = 100
# Words too common to be worth bolding in a quote (folded forms).
STOPWORDS = frozenset(
    {
        "va",
        "cua",
        "la",
        "co",
        "duoc",
        "cac",
        "nhung",
        "trong",
        "cho",
        "voi",
        "mot",
        "nay",
        "do",
        "thi",
        "khi",
        "da",
        "se",
        "den",
        "tu",
        "tai",
        "ve",
        "nhu",
        "cung",
        "nhieu",
        "hon",
        "ra",
        "vao",
        "len",
        "thanh",
        "theo",
        "bi",
        "o",
        "nao",
        "gi",
        "bao",
        "ai",
        "sao",
        "the",
        "nam",
        "ngay",
    }
)


@dataclass(frozen=True)
class SearchSettings:
    """Tunable knobs of hybrid search (defaults tuned on the dev set, see README)."""

    dense_weight: float = 0.5
    min_confidence: float = 0.0
    candidates: int = CANDIDATES


class Searcher:
    """Answers queries over one loaded index with one embedder."""

    def __init__(
        self, stored: StoredIndex, embedder: Embedder, settings: SearchSettings | None = None
    ) -> None:
        """Serve ``stored`` with ``embedder`` (which must be the model that built it)."""
        self.stored = stored
        self.embedder = embedder
        self.settings = settings or SearchSettings()
        self._positions = {(c.article_id, c.position): i for i, c in enumerate(stored.chunks)}

    @property
    def manifest(self) -> Manifest:
        """What the loaded index holds: model, counts, build time."""
        return self.stored.manifest

    @property
    def chunks(self) -> list[Chunk]:
        """All chunks, in index order."""
        return self.stored.chunks

    def search(self, query: str, top_k: int = DEFAULT_TOP_K) -> list[Hit]:
        """Return up to ``top_k`` hits good enough to quote, best first; [] when none is."""
        hits = self.rank(query, top_k)
        return [hit for hit in hits if hit.score >= self.settings.min_confidence]

    def rank(self, query: str, limit: int) -> list[Hit]:
        """Return the ``limit`` best chunks by fused score, without the no-answer cut."""
        text = canonical_text(query)
        query_tokens = set(tokenize(text))
        if not query_tokens or not self.stored.chunks:
            return []
        vector = self.embedder.embed_query(text).astype(np.float32)
        dense_ids, dense_scores = self._dense_candidates(vector)
        lexical = self.stored.lexical.scores(text)
        candidates = set(dense_ids) | set(
            np.argsort(-lexical)[: self.settings.candidates].tolist()
        )
        candidates.discard(-1)
        ids = np.fromiter(candidates, dtype=np.int64)
        dense = self._dense_scores(vector, ids, dict(zip(dense_ids, dense_scores, strict=True)))
        fused = fuse(dense, lexical[ids], self.settings.dense_weight)
        order = np.argsort(-fused)[:limit]
        query_tokens -= STOPWORDS
        return [
            self._hit(
                int(ids[i]), float(fused[i]), float(dense[i]), float(lexical[ids[i]]), query_tokens
            )
            for i in order
        ]

    def neighbour(self, chunk: Chunk, step: int) -> Chunk | None:
        """Return the chunk ``step`` places after (or before) ``chunk`` in its article."""
        row = self._positions.get((chunk.article_id, chunk.position + step))
        return self.stored.chunks[row] if row is not None else None

    def _dense_candidates(self, vector: np.ndarray) -> tuple[list[int], list[float]]:
        k = min(self.settings.candidates, len(self.stored.chunks))
        scores, ids = self.stored.vectors.search(vector[None, :], k)
        return ids[0].tolist(), scores[0].tolist()

    def _dense_scores(
        self, vector: np.ndarray, ids: np.ndarray, known: dict[int, float]
    ) -> np.ndarray:
        """Return candidates' cosines; FAISS' stored vector serves those it did not return."""
        return np.array(
            [
                known[row]
                if row in known
                else float(self.stored.vectors.reconstruct(row) @ vector)
                for row in ids.tolist()
            ],
            dtype=np.float32,
        )

    def _hit(
        self, row: int, score: float, dense: float, lexical: float, query_tokens: set[str]
    ) -> Hit:
        chunk = self.stored.chunks[row]
        spans = tuple(
            (start, end) for token, start, end in token_spans(chunk.text) if token in query_tokens
        )
        return Hit(
            chunk=chunk, score=score, dense_score=dense, lexical_score=lexical, highlights=spans
        )


def fuse(dense: np.ndarray, lexical: np.ndarray, dense_weight: float) -> np.ndarray:
    """Combine dense cosines and BM25 scores of the same candidates into one score."""
    top = float(lexical.max()) if len(lexical) else 0.0
    lexical_part = lexical / top if top > 0 else np.zeros_like(lexical)
    return dense_weight * dense + (1 - dense_weight) * lexical_part
