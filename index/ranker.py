"""The fitted second stage: a linear ranker and a logistic no-answer decision per question kind.

Weights live in ``index/fitted/ranking.json``, keyed by the embedding model's weights fingerprint
(precision suffix dropped), so another model never gets cosines it was not fitted on. They are
fitted by ``python -m index fit ../shared/eval/dev ../shared/eval/news-dev`` (``index.fitting``)
and the file records the command, the data and the cross-validated figures.

* Ranking score: ``weights · features`` (:data:`index.ranking.FEATURES`), fitted as a pairwise
  logistic model (RankNet, linear): the positive paragraph of a question should outscore each
  other candidate, then spread over articles (:func:`spread_articles`). Unbounded; only the
  order within one question means something.
* Confidence: ``sigmoid(weights · decision_features + bias)``, in [0, 1], the fitted probability
  that a quoted paragraph answers the question. Fitted on paragraphs that answer (positives of
  answerable questions) against the ones quoted for questions whose article is missing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from index.ranking import FEATURES

FITTED_FILE = Path(__file__).parent / "fitted" / "ranking.json"
# What the decision sees of a hit: its ranking score, the margin to the best paragraph of any
# other article, and the evidence features below (names from FEATURES).
DECISION_EVIDENCE = (
    "dense",
    "coverage",
    "bigram_coverage",
    "missing_idf",
    "number_coverage",
    "accented_coverage",
    "article_coverage",
    "rare_hit",
    "rare_coverage",
    "article_bigram_coverage",
    "article_missing_idf",
    "article_missing_rare",
)
DECISION_FEATURES = ("score", "margin", "best_article_coverage", *DECISION_EVIDENCE)
_EVIDENCE_COLUMNS = [FEATURES.index(name) for name in DECISION_EVIDENCE]
_ARTICLE_COVERAGE = FEATURES.index("article_coverage")
# 4-fold CV by article on news-dev + dev, medians over six partitions: 0.15 lifts news-dev R@5
# from 0.876 (no penalty) to 0.877; on one partition 0.1-0.3 were within 0.001 of each other and
# 1.0 cost 0.016 (right answers are often a sibling of the best paragraph).
ARTICLE_PENALTY = 0.15


@dataclass(frozen=True)
class KindModel:
    """Weights for one kind of question (typed with or without diacritics)."""

    rank: np.ndarray  # shape (len(FEATURES),)
    decide: np.ndarray  # shape (len(DECISION_FEATURES),)
    bias: float


@dataclass(frozen=True)
class RankingModel:
    """A fitted ranker and decision for accented and plain (no diacritics) questions."""

    accented: KindModel
    plain: KindModel

    def kind(self, plain: bool) -> KindModel:
        """Return the weights for a question typed without (``True``) or with diacritics."""
        return self.plain if plain else self.accented


def rank_scores(model: KindModel, features: np.ndarray, articles: list[str]) -> np.ndarray:
    """Return ranking scores, shape ``(n,)``, of a pool's ``(n, len(FEATURES))`` features.

    ``articles`` gives each row's article (``index.ranking.article_key``): the scores are
    spread over articles by :func:`spread_articles`.
    """
    return spread_articles(features @ model.rank, articles)


def spread_articles(
    scores: np.ndarray, articles: list[str], penalty: float = ARTICLE_PENALTY
) -> np.ndarray:
    """Lower each score by ``penalty`` standard deviations per better paragraph of its article.

    A vague question often draws several paragraphs of one wrong article to the top; a mild
    penalty on an article's second, third... paragraph lets other articles in. The best
    paragraph of every article keeps its score, so the order of articles does not change.

    Args:
        scores: linear ranking scores, shape ``(n,)``.
        articles: the article of each row, length ``n``.
        penalty: in standard deviations of ``scores`` per better-scored sibling.

    Returns:
        The spread scores, shape ``(n,)``.
    """
    if len(scores) < 2 or penalty == 0:
        return scores
    order = np.argsort(-scores, kind="stable")
    owner = np.unique(np.asarray(articles)[order], return_inverse=True)[1]
    grouped = np.argsort(owner, kind="stable")  # each article's rows, best first
    counts = np.bincount(owner)
    before = np.empty(len(order), dtype=np.int64)
    before[grouped] = np.arange(len(order)) - np.repeat(np.cumsum(counts) - counts, counts)
    spread = scores.astype(np.float64)
    spread[order] -= penalty * float(scores.std()) * before
    return spread


def decision_features(features: np.ndarray, scores: np.ndarray, articles: list[str]) -> np.ndarray:
    """Return ``(n, len(DECISION_FEATURES))``: score, margin to other articles, evidence.

    ``best_article_coverage`` is the same for every paragraph of a question: how much of the
    question the best-covering article of the pool holds (low when the archive lacks it). The
    margin of a paragraph is its score minus the best score of a paragraph from another article
    (positive only for the best article's paragraphs; a clear winner has a large one).
    """
    margin = scores - _best_of_other_articles(scores, articles)
    best_coverage = np.full(len(scores), features[:, _ARTICLE_COVERAGE].max(initial=0.0))
    return np.column_stack([scores, margin, best_coverage, features[:, _EVIDENCE_COLUMNS]])


def _best_of_other_articles(scores: np.ndarray, articles: list[str]) -> np.ndarray:
    """Return, per paragraph, the best score among other articles' paragraphs (0 if none)."""
    if not len(scores):
        return np.zeros(0)
    keys, owner = np.unique(np.asarray(articles), return_inverse=True)
    best = np.full(len(keys), -np.inf)
    np.maximum.at(best, owner, scores)
    if len(keys) == 1:
        return np.zeros(len(scores))
    first, second = np.argsort(-best, kind="stable")[:2]
    return np.where(owner == first, best[second], best[first])


def confidences(model: KindModel, decision: np.ndarray) -> np.ndarray:
    """Return P(paragraph answers the question), shape ``(n,)``, values in [0, 1]."""
    return 1.0 / (1.0 + np.exp(-(decision @ model.decide + model.bias)))


def weights_key(fingerprint: str) -> str:
    """Return the key of a model's weights: its fingerprint without the precision suffix."""
    return fingerprint.split("+", 1)[0]


@cache
def load_ranking_model(fingerprint: str, path: Path = FITTED_FILE) -> RankingModel | None:
    """Return the fitted model for an embedding model's fingerprint, or None if not fitted."""
    if not path.is_file():
        return None
    entry = (
        json.loads(path.read_text(encoding="utf-8"))
        .get("models", {})
        .get(weights_key(fingerprint))
    )
    if entry is None or tuple(entry["features"]) != FEATURES:
        return None
    if tuple(entry["decision_features"]) != DECISION_FEATURES:
        return None
    return RankingModel(**{kind: _kind(entry[kind]) for kind in ("accented", "plain")})


def _kind(raw: dict[str, list[float] | float]) -> KindModel:
    rank, decide, bias = raw["rank"], raw["decide"], raw["bias"]
    if not isinstance(rank, list) or not isinstance(decide, list) or isinstance(bias, list):
        raise ValueError("ranking.json: rank and decide are lists, bias a number")
    return KindModel(np.array(rank), np.array(decide), float(bias))
