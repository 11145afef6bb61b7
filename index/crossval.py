"""Honest figures of the second stage: ``python -m index fit DIR… --folds 4``.

The shipped weights are fitted on every question of the dev sets, so ``python -m index eval``
on those sets is in-sample for the ranker and the decision. Here each question is ranked and
decided by weights fitted without its article (K folds, an article's questions in one fold),
and each set by weights fitted on the other sets alone (cross-domain). Figures are
paragraph-level over the first stage's pool (``Searcher.pool``), one weight per question; the
eval's passage-level figures on the same data differ by about ±0.003.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from index.fitting import Example, fit_decision, fit_ranker
from index.ranker import decision_features, spread_articles

QUOTED = 3  # hits a question can quote, as Searcher.search(question, 3) in the eval
KINDS = (("accented", False), ("plain", True))


@dataclass(frozen=True)
class Figures:
    """Ranking and no-answer figures of one set of questions.

    Attributes:
        mrr: MRR@10 of the answerable questions, in [0, 1].
        recall5: share of them with a positive paragraph in the first 5 (R@5), in [0, 1].
        answered: share of them with a quotable hit (confidence >= the threshold among the
            first :data:`QUOTED`), or None when the decision was not fitted.
        quoted: the same share for the set's own unanswerable questions, or None without them.
        questions: answerable questions measured.
    """

    mrr: float
    recall5: float
    answered: float | None
    quoted: float | None
    questions: int

    def line(self, label: str) -> str:
        """Return ``label: MRR@10=… R@5=… [answered=… quoted=…] n=…``."""
        parts = [f"{label}: MRR@10={self.mrr:.3f}", f"R@5={self.recall5:.3f}"]
        if self.answered is not None:
            parts.append(f"answered={self.answered:.3f}")
        if self.quoted is not None:
            parts.append(f"quoted={self.quoted:.3f}")
        return " ".join([*parts, f"n={self.questions}"])


def fold_of(example: Example, folds: int) -> int:
    """Return the example's fold, ``0 <= fold < folds``: by its positive paragraph's article
    (questions about one article stay together), else by question id."""
    positives = np.flatnonzero(example.labels > 0)
    key = example.articles[positives[0]] if len(positives) else example.qid
    return zlib.crc32(key.encode("utf-8")) % folds


def figures(
    examples: list[Example],
    rank: np.ndarray,
    decide: tuple[np.ndarray, float] | None,
    threshold: float,
) -> Figures:
    """Measure ``examples`` under fitted weights.

    Args:
        examples: one set's pools; answerable ones are ranked, unanswerable ones that are not
            ``cross`` (the set's own ``unanswerable.jsonl``) count for ``quoted``.
        rank: ranker weights, shape ``(len(FEATURES),)``.
        decide: the decision's (weights, bias), or None to skip ``answered``/``quoted``.
        threshold: the confidence a hit needs to be quoted (``MIN_CONFIDENCE``).
    """
    return _summary([_outcome(ex, rank, decide, threshold) for ex in examples if not ex.cross])


def cross_validate(
    sets: dict[str, list[Example]], folds: int, threshold: float
) -> Iterator[tuple[str, str, Figures]]:
    """Yield ``(kind, set name, figures)``: each question measured by weights fitted on the
    other folds of every set (ranker and decision, as ``fit_model`` fits them)."""
    for kind, plain in KINDS:
        chosen = _of_kind(sets, plain)
        if not chosen:
            continue
        fitted = []
        for fold in range(folds):
            train = [ex for found in chosen.values() for ex in found if fold_of(ex, folds) != fold]
            rank = fit_ranker(train)
            fitted.append((rank, fit_decision(train, rank)))
        for name, found in chosen.items():
            outcomes = [
                _outcome(ex, *fitted[fold_of(ex, folds)], threshold)
                for ex in found
                if not ex.cross
            ]
            yield kind, name, _summary(outcomes)


def cross_domain(
    sets: dict[str, list[Example]], threshold: float
) -> Iterator[tuple[str, str, str, Figures]]:
    """Yield ``(kind, fitted on, measured on, figures)`` for every ordered pair of sets."""
    for kind, plain in KINDS:
        chosen = _of_kind(sets, plain)
        for source, train in chosen.items():
            rank = fit_ranker(train)
            decide = fit_decision(train, rank)
            for target, test in chosen.items():
                if target != source:
                    yield kind, source, target, figures(test, rank, decide, threshold)


def _of_kind(sets: dict[str, list[Example]], plain: bool) -> dict[str, list[Example]]:
    """Return each set's examples of one kind, leaving out sets with no answerable one."""
    chosen = {name: [ex for ex in found if ex.plain == plain] for name, found in sets.items()}
    return {name: found for name, found in chosen.items() if any(ex.answerable for ex in found)}


@dataclass(frozen=True)
class _Outcome:
    answerable: bool
    reciprocal: float  # 1 / rank of the first positive within 10, else 0
    top5: bool
    quotable: bool | None  # None: no decision


def _outcome(
    ex: Example, rank: np.ndarray, decide: tuple[np.ndarray, float] | None, threshold: float
) -> _Outcome:
    scores = spread_articles(ex.features @ rank, list(ex.articles))
    order = np.argsort(-scores, kind="stable")
    quotable = None
    if decide is not None:
        evidence = decision_features(ex.features, scores, list(ex.articles))[order[:QUOTED]]
        confidence = 1.0 / (1.0 + np.exp(-(evidence @ decide[0] + decide[1])))
        quotable = bool((confidence >= threshold).any())
    first = next((n for n, i in enumerate(order[:10]) if ex.labels[i] > 0), None)
    reciprocal = 0.0 if first is None else 1.0 / (first + 1)
    return _Outcome(ex.answerable, reciprocal, first is not None and first < 5, quotable)


def _summary(outcomes: list[_Outcome]) -> Figures:
    answerable = [o for o in outcomes if o.answerable]
    missing = [o for o in outcomes if not o.answerable]

    def share(values: list[bool | None]) -> float | None:
        known = [v for v in values if v is not None]
        return float(np.mean(known)) if known else None

    return Figures(
        float(np.mean([o.reciprocal for o in answerable])) if answerable else 0.0,
        float(np.mean([o.top5 for o in answerable])) if answerable else 0.0,
        share([o.quotable for o in answerable]),
        share([o.quotable for o in missing]),
        len(answerable),
    )
