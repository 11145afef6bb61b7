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

from index.evaluation import Decision, Metrics, Quoted, decide, score
from index.fitting import Example, fit_decision, fit_ranker
from index.ranker import KindModel, confidences, decision_features, spread_articles

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

    @classmethod
    def of(cls, metrics: Metrics, decision: Decision | None) -> Figures:
        """Return the figures of the eval's metrics and decision (``index.evaluation``)."""
        answered = decision.answered if decision and metrics.n else None
        quoted = decision.false_quotes if decision and decision.n_unanswerable else None
        return cls(metrics.mrr10, metrics.r5, answered, quoted, metrics.n)

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
    decision: tuple[np.ndarray, float] | None,
    threshold: float,
) -> Figures:
    """Measure ``examples`` under fitted weights.

    Args:
        examples: one set's pools; answerable ones are ranked, unanswerable ones that are not
            ``cross`` (the set's own ``unanswerable.jsonl``) count for ``quoted``.
        rank: ranker weights, shape ``(len(FEATURES),)``.
        decision: the decision's (weights, bias), or None to skip ``answered``/``quoted``.
        threshold: the confidence a hit needs to be quoted (``MIN_CONFIDENCE``).
    """
    return _summary(
        [_outcome(ex, rank, decision, threshold) for ex in examples if not ex.cross], threshold
    )


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
            yield kind, name, _summary(outcomes, threshold)


def cross_domain(
    sets: dict[str, list[Example]], threshold: float
) -> Iterator[tuple[str, str, str, Figures]]:
    """Yield ``(kind, fitted on, measured on, figures)`` for every ordered pair of sets."""
    for kind, plain in KINDS:
        chosen = _of_kind(sets, plain)
        for source, train in chosen.items():
            rank = fit_ranker(train)
            decision = fit_decision(train, rank)
            for target, test in chosen.items():
                if target != source:
                    yield kind, source, target, figures(test, rank, decision, threshold)


def _of_kind(sets: dict[str, list[Example]], plain: bool) -> dict[str, list[Example]]:
    """Return each set's examples of one kind, leaving out sets with no answerable one."""
    chosen = {name: [ex for ex in found if ex.plain == plain] for name, found in sets.items()}
    return {name: found for name, found in chosen.items() if any(ex.answerable for ex in found)}


@dataclass(frozen=True)
class _Outcome:
    answerable: bool
    ranked: list[str]  # pool rows (as strings), best first, the first 10
    positives: frozenset[str]  # the rows that answer
    quoted: Quoted | None  # what the decision makes of the first QUOTED rows; None: no decision


def _outcome(
    ex: Example, rank: np.ndarray, decision: tuple[np.ndarray, float] | None, threshold: float
) -> _Outcome:
    scores = spread_articles(ex.features @ rank, list(ex.articles))
    order = np.argsort(-scores, kind="stable")
    quoted = None
    if decision is not None:
        first = order[:QUOTED]
        evidence = decision_features(ex.features, scores, list(ex.articles))[first]
        confidence = confidences(KindModel(rank, *decision), evidence)
        quoted = Quoted(tuple(confidence.tolist()), tuple(bool(ex.labels[i] > 0) for i in first))
    positives = frozenset(str(i) for i in np.flatnonzero(ex.labels > 0))
    return _Outcome(ex.answerable, [str(i) for i in order[:10]], positives, quoted)


def _summary(outcomes: list[_Outcome], threshold: float) -> Figures:
    """Return the figures of one set's outcomes, by the eval's own :func:`score` and
    :func:`decide`."""
    answerable = [o for o in outcomes if o.answerable]
    metrics = score((o.ranked, o.positives) for o in answerable)
    found = [o.quoted for o in answerable if o.quoted is not None]
    missing = [o.quoted for o in outcomes if not o.answerable and o.quoted is not None]
    if len(found) + len(missing) < len(outcomes):  # no decision fitted
        return Figures.of(metrics, None)
    return Figures.of(metrics, decide(found, missing, threshold))
