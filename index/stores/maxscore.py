"""Exact BM25 top k with MaxScore (Turtle & Flood 1995) over one query's postings.

The rarest terms are scored over all their postings (``ESSENTIAL_SHARE`` of the query's
postings at least); once the k-th best partial score exceeds the most the remaining common
terms could add to an unseen paragraph (idf * (k1 + 1) each), those terms are only looked up
for the paragraphs still able to reach the top k. Measured on 200 news-scale questions at 100k
paragraphs: 18% of the postings are read in full (median), the top 100 is identical to scoring
every posting (``tests/test_stores.py`` checks it against a reference BM25).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.stores.base import positions

# Share of a query's postings (rarest terms first) scored in full before MaxScore may prune,
# and at most this many postings: the k-th best score of the rarest terms is what lets pruning
# start, and it needs a few tens of thousands of postings, not a share of a growing corpus.
# `bench --stages million`, p95 of BM25 search + score at 1M: share 0.1 alone 54.6-63.3 ms,
# share 0.03 42.4-51.6 ms; at 100k (~51k postings at 0.1, median) the cap changes nothing.
ESSENTIAL_SHARE = 0.1
ESSENTIAL_MOST = 100_000


@dataclass(frozen=True)
class QueryTerms:
    """A query's live postings ``(ids ascending, term counts)``, rarest term first, and idf."""

    postings: list[tuple[np.ndarray, np.ndarray]]
    idf: np.ndarray


@dataclass(frozen=True)
class Corpus:
    """What BM25 needs of the corpus, by paragraph id.

    Attributes:
        norm: ``k1 * (1 - b + b * length / average length)`` per id, shape ``(max id + 1,)``.
        k1: BM25's term-frequency saturation.
        removed: tombstoned ids (their scores are zeroed), ascending.
    """

    norm: np.ndarray
    k1: float
    removed: np.ndarray


def top_k(found: QueryTerms, corpus: Corpus, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the ids and exact BM25 scores of the ``k`` best paragraphs (any order).

    Args:
        found: the query's terms (at least one).
        corpus: lengths and tombstones.
        k: how many (>= 1).

    Returns:
        ``(ids, scores)``, each of shape ``(<= k,)``; only paragraphs with a score > 0.
    """
    sizes = np.array([len(ids) for ids, _ in found.postings])
    # most[j]: the most terms j.. can add to one paragraph (tf / (tf + norm) < 1).
    most = np.r_[np.cumsum((found.idf * (corpus.k1 + 1))[::-1])[::-1], 0.0]
    cumulative = np.cumsum(sizes)
    essential = min(ESSENTIAL_SHARE * cumulative[-1], ESSENTIAL_MOST)
    done = int(np.searchsorted(cumulative, essential)) + 1
    scores = _full(found, corpus, 0, done)
    threshold = 0.0
    while done < len(sizes):
        touched = np.flatnonzero(scores > 0)  # a bool mask: ~7x faster than on floats
        if len(touched) <= k:
            threshold = 0.0
        else:
            threshold = float(np.partition(scores[touched], len(touched) - k)[-k])
        until = done
        while until < len(sizes) and most[until] >= threshold:
            until += 1
        if until == done:
            return _refine(found, corpus, done, touched, scores[touched], threshold, most, k)
        scores += _full(found, corpus, done, until)
        done = until
    hits = np.flatnonzero(scores > 0)
    if len(hits) > k:
        hits = hits[np.argpartition(-scores[hits], k - 1)[:k]]
    return hits, scores[hits]


def term_scores(
    holders: np.ndarray, counts: np.ndarray, ids: np.ndarray, idf: float, corpus: Corpus
) -> np.ndarray:
    """Return one term's BM25 for each of ``ids`` (0 where the paragraph lacks it).

    Args:
        holders: the term's posting ids, ascending; counts: its count in each.
        ids: the paragraphs to score, shape ``(n,)``.
        idf: the term's idf.

    Returns:
        Scores, shape ``(n,)``, float64, >= 0.
    """
    tf = _frequencies(holders, counts, ids)
    return idf * (corpus.k1 + 1) * tf / (tf + corpus.norm[ids])


def scores_of(found: QueryTerms, ids: np.ndarray, corpus: Corpus) -> np.ndarray:
    """Return the BM25 of each of ``ids`` under all of ``found``'s terms.

    The sum of :func:`term_scores` over the terms, computed for all terms at once (a question's
    few hundred candidates: one term-frequency matrix instead of a pass per term).

    Returns:
        Scores, shape ``(len(ids),)``, float64, >= 0 (removed paragraphs are not zeroed here).
    """
    tf = np.zeros((len(found.postings), len(ids)))
    for row, (holders, counts) in enumerate(found.postings):
        tf[row] = _frequencies(holders, counts, ids)
    weights = found.idf[:, None] * (corpus.k1 + 1)
    return (weights * tf / (tf + corpus.norm[ids])).sum(axis=0)


def _frequencies(holders: np.ndarray, counts: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Return one term's count in each of ``ids``, shape ``(n,)``, float64 (0: absent)."""
    at = positions(holders, ids)
    tf = np.zeros(len(ids))
    tf[at >= 0] = counts[at[at >= 0]]
    return tf


def _refine(
    found: QueryTerms,
    corpus: Corpus,
    start: int,
    ids: np.ndarray,
    partial: np.ndarray,
    threshold: float,
    most: np.ndarray,
    k: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Add terms ``start``.. to the paragraphs that can still reach ``threshold``."""
    for term in range(start, len(found.postings)):
        alive = partial + most[term] >= threshold
        ids, partial = ids[alive], partial[alive]
        holders, counts = found.postings[term]
        partial = partial + term_scores(holders, counts, ids, found.idf[term], corpus)
        if len(partial) > k:
            threshold = max(threshold, float(np.partition(partial, len(partial) - k)[-k]))
    if len(ids) > k:
        best = np.argpartition(-partial, k - 1)[:k]
        ids, partial = ids[best], partial[best]
    return ids, partial


def _full(found: QueryTerms, corpus: Corpus, start: int, stop: int) -> np.ndarray:
    """Return the BM25 of terms ``start:stop`` for every id (index = id), all postings."""
    if start >= stop:
        return np.zeros(len(corpus.norm))
    part = found.postings[start:stop]
    sizes = np.array([len(ids) for ids, _ in part], np.intp)
    ids = np.concatenate([ids for ids, _ in part]).astype(np.intp)
    tf = np.concatenate([counts for _, counts in part]).astype(np.float64)
    weights = np.repeat(found.idf[start:stop] * (corpus.k1 + 1), sizes) * tf
    weights /= tf + corpus.norm[ids]
    scores = np.bincount(ids, weights, len(corpus.norm))
    scores[corpus.removed] = 0.0
    return scores
