"""Hybrid search: FAISS (dense) and BM25 (lexical) candidates, fused, with a no-answer decision.

Fusion: the dense cosines and BM25 scores of the union of both candidate lists are each turned
into z-scores over those candidates and mixed with ``dense_weight``. A question typed without
diacritics gets ``plain_dense_weight`` instead: the embedding model reads "gia tri xuat khau"
poorly (dense MRR@10 0.29 on the dev set) while folded BM25 does not care. Both weights were
tuned on ``../shared/eval/dev`` (the plateau is wide: 0.6-0.8 and 0.2-0.3 score within 0.01).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from index.bundled import BUNDLED_MODEL
from index.embedding import Embedder
from index.models import Chunk, Hit
from index.store import Manifest, StoredIndex, stored_vectors
from index.text import canonical_text, fold, token_spans, tokenize

logger = logging.getLogger(__name__)

DEFAULT_TOP_K = 3
DEFAULT_MIN_CONFIDENCE = 0.5
CANDIDATES = 100
# Common function words (folded): never bolded, and not counted as evidence of an answer.
STOPWORDS = frozenset(
    "va cua la co duoc cac nhung trong cho voi mot nay do thi khi da se den tu tai ve nhu cung "  # noqa: SIM905
    "nhieu hon ra vao len thanh theo bi o nao gi bao ai sao the nam ngay nhieu bao_nhieu the_nao "
    "khong gi ai dau nao la_gi".split()
)


@dataclass(frozen=True)
class Calibration:
    """Logistic no-answer model, (cosine weight, coverage weight, bias) per kind of question."""

    accented: tuple[float, float, float]
    plain: tuple[float, float, float]


# Fit (logistic regression) on the 356 dev questions against the dev corpus (answerable) and
# against the news sample (not answerable), typed as given and without diacritics; at 0.5 it
# quotes 90% / 83% of answerable questions and 9% / 16% of unanswerable ones (see README).
CALIBRATIONS: dict[str, Calibration] = {
    BUNDLED_MODEL: Calibration(accented=(25.96, 7.55, -26.79), plain=(4.87, 9.12, -9.56)),
}
# Models without a calibration: their cosines are not comparable, so word coverage decides.
COVERAGE_ONLY = Calibration(accented=(0.0, 10.0, -6.0), plain=(0.0, 10.0, -6.0))


@dataclass(frozen=True)
class SearchSettings:
    """Tunable knobs of hybrid search (defaults tuned on the dev set, see README)."""

    dense_weight: float = 0.7
    plain_dense_weight: float = 0.3
    candidates: int = CANDIDATES
    # None picks the embedding model's entry in CALIBRATIONS, or COVERAGE_ONLY.
    calibration: Calibration | None = None
    min_confidence: float = DEFAULT_MIN_CONFIDENCE


class Searcher:
    """Answers queries over one loaded index with one embedder."""

    def __init__(
        self, stored: StoredIndex, embedder: Embedder, settings: SearchSettings | None = None
    ) -> None:
        """Serve ``stored`` with ``embedder`` (which must be the model that built it)."""
        self.stored = stored
        self.embedder = embedder
        self.settings = settings or SearchSettings()
        self._calibration = self.settings.calibration or CALIBRATIONS.get(
            embedder.name, COVERAGE_ONLY
        )
        self._positions = {(c.article_id, c.position): i for i, c in enumerate(stored.chunks)}
        self._vectors = stored_vectors(stored.vectors)

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
        return [h for h in self.rank(query, top_k) if h.confidence >= self.settings.min_confidence]

    def rank(self, query: str, limit: int) -> list[Hit]:
        """Return the ``limit`` best chunks by fused score, without the no-answer cut."""
        text = canonical_text(query)
        query_tokens = set(tokenize(text))
        if not query_tokens or not self.stored.chunks:
            return []
        vector = self.embedder.embed_query(text).astype(np.float32)
        k = min(self.settings.candidates, len(self.stored.chunks))
        _, dense_ids = self.stored.vectors.search(vector[None, :], k)
        lexical = self.stored.lexical.scores(text)
        lexical_ids = np.argsort(-lexical)[:k]
        ids = np.union1d(dense_ids[0][dense_ids[0] >= 0], lexical_ids)
        dense = self._vectors[ids] @ vector
        plain = _plain(text)
        weight = self.settings.plain_dense_weight if plain else self.settings.dense_weight
        fused = weight * _zscores(dense) + (1 - weight) * _zscores(lexical[ids])
        order = np.argsort(-fused)[:limit]
        evidence = query_tokens - STOPWORDS or query_tokens
        weights = self._calibration.plain if plain else self._calibration.accented
        return [
            self._hit(
                int(ids[i]),
                float(fused[i]),
                float(dense[i]),
                float(lexical[ids[i]]),
                evidence,
                weights,
            )
            for i in order
        ]

    def neighbour(self, chunk: Chunk, step: int) -> Chunk | None:
        """Return the chunk ``step`` places after (or before) ``chunk`` in its article."""
        row = self._positions.get((chunk.article_id, chunk.position + step))
        return self.stored.chunks[row] if row is not None else None

    def _hit(
        self,
        row: int,
        score: float,
        dense: float,
        lexical: float,
        evidence: set[str],
        weights: tuple[float, float, float],
    ) -> Hit:
        chunk = self.stored.chunks[row]
        spans = token_spans(f"{chunk.title}. {chunk.text}")
        offset = len(chunk.title) + 2
        found = {token for token, _, _ in spans}
        coverage = len(evidence & found) / len(evidence)
        highlights = tuple(
            (start - offset, end - offset)
            for token, start, end in spans
            if start >= offset and token in evidence
        )
        return Hit(
            chunk=chunk,
            score=score,
            dense_score=dense,
            lexical_score=lexical,
            highlights=highlights,
            confidence=confidence(dense, coverage, weights),
        )


def confidence(cosine: float, coverage: float, weights: tuple[float, float, float]) -> float:
    """Return P(chunk answers query) from its cosine and its share of the query's words."""
    a, b, c = weights
    return 1.0 / (1.0 + math.exp(-(a * cosine + b * coverage + c)))


def _plain(text: str) -> bool:
    """Tell whether a query was typed without any Vietnamese diacritic."""
    return fold(text) == text.lower()


def _zscores(values: np.ndarray) -> np.ndarray:
    spread = float(values.std())
    return (values - values.mean()) / spread if spread > 0 else np.zeros_like(values)
