"""Hybrid search: dense and lexical candidates, fused, with a no-answer decision.

Candidates come as ``(ids, scores)`` from the stores of ``index.stores`` (FAISS and BM25 today);
paragraph texts come by id from ``index.paragraphs``.

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
from index.store import Manifest, StoredIndex
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
    """Answers queries over one loaded index with one embedder.

    Thread-safe for searching: the bot runs questions in worker threads.
    """

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

    @property
    def manifest(self) -> Manifest:
        """What the loaded index holds: model, counts, build time."""
        return self.stored.manifest

    def search(self, query: str, top_k: int = DEFAULT_TOP_K) -> list[Hit]:
        """Return up to ``top_k`` hits good enough to quote, best first; [] when none is.

        Args:
            query: the question as typed (any Unicode form, with or without diacritics).
            top_k: most hits returned.

        Returns:
            Hits with ``confidence >= settings.min_confidence``, best fused score first.
        """
        return [h for h in self.rank(query, top_k) if h.confidence >= self.settings.min_confidence]

    def rank(self, query: str, limit: int) -> list[Hit]:
        """Return the ``limit`` best chunks by fused score, without the no-answer cut.

        Args:
            query: the question as typed.
            limit: most hits returned.

        Returns:
            Hits best first; [] for a query without words or an empty index. See
            :class:`index.models.Hit` for the meaning and range of each score.
        """
        text = canonical_text(query)
        query_tokens = set(tokenize(text))
        count = self.stored.dense.count
        if not query_tokens or not count:
            return []
        vector = self.embedder.embed_query(text).astype(np.float32)
        k = min(self.settings.candidates, count)
        dense_hits = self.stored.dense.search(vector, k)
        lexical_hits = self.stored.lexical.search(text, k)
        ids = np.union1d(dense_hits.ids, lexical_hits.ids)
        dense = self.stored.dense.score(ids, vector)
        lexical = self.stored.lexical.score(ids, text)
        plain = _plain(text)
        weight = self.settings.plain_dense_weight if plain else self.settings.dense_weight
        fused = weight * _zscores(dense) + (1 - weight) * _zscores(lexical)
        order = np.argsort(-fused)[:limit]
        evidence = query_tokens - STOPWORDS or query_tokens
        weights = self._calibration.plain if plain else self._calibration.accented
        chunks = self.stored.paragraphs.get(ids[order].tolist())
        return [
            self._hit(
                chunk,
                float(fused[i]),
                float(dense[i]),
                float(lexical[i]),
                evidence,
                weights,
            )
            for chunk, i in zip(chunks, order, strict=True)
        ]

    def neighbour(self, chunk: Chunk, step: int) -> Chunk | None:
        """Return the chunk ``step`` places after (or before) ``chunk`` in its article."""
        return self.stored.paragraphs.at(chunk.article_id, chunk.position + step)

    def _hit(
        self,
        chunk: Chunk,
        score: float,
        dense: float,
        lexical: float,
        evidence: set[str],
        weights: tuple[float, float, float],
    ) -> Hit:
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
