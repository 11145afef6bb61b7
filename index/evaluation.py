"""Retrieval quality on a QA folder: MRR@10, Recall@1/5/10 and the no-answer decision.

An eval folder holds ``corpus.jsonl`` and ``questions.jsonl`` and, optionally,
``unanswerable.jsonl`` (questions whose article is not in the corpus; see
``../shared/eval/README.md``). With that file the decision is measured too: how many answerable
questions get a quote (``answered``), how many get a positive as their first quote
(``gold_first``) and how many unanswerable ones get a quote anyway (``false_quotes``), at the
configured ``min_confidence`` and over a range of thresholds (:func:`tradeoff`).
"""

from __future__ import annotations

import json
import tempfile
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from index.cache import EmbeddingCache
from index.embedding import Embedder
from index.errors import RetrievalError
from index.models import Hit
from index.pipeline import BuildProgress, BuildReport, build_index, load_index
from index.search import DEFAULT_TOP_K, Searcher, SearchSettings

CORPUS_FILE = "corpus.jsonl"
QUESTIONS_FILE = "questions.jsonl"
UNANSWERABLE_FILE = "unanswerable.jsonl"
RANK_DEPTH = 10
TRADEOFF_THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


@dataclass(frozen=True)
class Question:
    """One eval question and the passage ids that answer it (none: unanswerable)."""

    qid: str
    text: str
    positive_ids: frozenset[str]


@dataclass(frozen=True)
class Metrics:
    """Retrieval metrics over a question set, each a share in [0, 1]."""

    mrr10: float
    r1: float
    r5: float
    r10: float
    n: int

    def line(self) -> str:
        """Return the one-line summary printed last by ``python -m index eval``."""
        return (
            f"MRR@10={self.mrr10:.3f} R@1={self.r1:.3f} R@5={self.r5:.3f} "
            f"R@10={self.r10:.3f} n={self.n}"
        )


@dataclass(frozen=True)
class Decision:
    """The no-answer decision at one threshold; every figure is a share in [0, 1].

    Attributes:
        threshold: the ``min_confidence`` applied to each quoted hit.
        answered: answerable questions that get at least one quote.
        gold_first: answerable questions whose first quote is a positive passage.
        false_quotes: unanswerable questions that get at least one quote anyway.
        n_unanswerable: how many unanswerable questions were asked.
    """

    threshold: float
    answered: float
    gold_first: float
    false_quotes: float
    n_unanswerable: int

    def fields(self) -> str:
        """Return the decision part of the summary line."""
        return (
            f"answered={self.answered:.3f} gold_first={self.gold_first:.3f} "
            f"false_quotes={self.false_quotes:.3f} n_unanswerable={self.n_unanswerable}"
        )


@dataclass(frozen=True)
class Report:
    """What ``python -m index eval`` prints: the trade-off table, then the summary line."""

    metrics: Metrics
    decision: Decision | None = None
    tradeoff: tuple[Decision, ...] = ()

    def lines(self) -> list[str]:
        """Return the printed lines; the last one is the machine-readable summary."""
        if self.decision is None:
            return [self.metrics.line()]
        table = ["threshold  answered  gold_first  false_quotes"]
        table += [
            f"{d.threshold:9.2f}  {d.answered:8.3f}  {d.gold_first:10.3f}  {d.false_quotes:12.3f}"
            for d in self.tradeoff
        ]
        return [*table, f"{self.metrics.line()} {self.decision.fields()}"]


@dataclass(frozen=True)
class Quoted:
    """The confidences of the hits ``search`` would consider, and which are positives."""

    confidences: tuple[float, ...]
    positive: tuple[bool, ...]


def strip_diacritics(text: str) -> str:
    """Remove Vietnamese diacritics, keeping case ("Phổ Yên" -> "Pho Yen", "Đà" -> "Da")."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def read_questions(eval_dir: Path, strip: bool = False) -> list[Question]:
    """Read ``questions.jsonl`` of an eval folder (see ../shared/eval/README.md)."""
    path = eval_dir / QUESTIONS_FILE
    if not path.is_file():
        raise RetrievalError(
            f"{path} not found; an eval folder holds {CORPUS_FILE} and {QUESTIONS_FILE}."
        )
    return _read_question_file(path, strip)


def read_unanswerable(eval_dir: Path, strip: bool = False) -> list[Question] | None:
    """Read ``unanswerable.jsonl`` (``{"id", "question"}`` rows), or None when absent."""
    path = eval_dir / UNANSWERABLE_FILE
    return _read_question_file(path, strip) if path.is_file() else None


def _read_question_file(path: Path, strip: bool) -> list[Question]:
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            text = strip_diacritics(row["question"]) if strip else row["question"]
            questions.append(Question(row["id"], text, frozenset(row.get("positive_ids", ()))))
        except (ValueError, KeyError, TypeError) as exc:
            raise RetrievalError(f"{path}:{number}: unreadable question ({exc}).") from None
    return questions


def ranked_ids(hits: Iterable[Hit], depth: int = RANK_DEPTH) -> list[str]:
    """Return distinct article (passage) ids in rank order; a passage counts once."""
    ids: list[str] = []
    for hit in hits:
        if hit.chunk.article_id not in ids:
            ids.append(hit.chunk.article_id)
    return ids[:depth]


def score(rankings: Iterable[tuple[list[str], frozenset[str]]]) -> Metrics:
    """Compute MRR@10 and Recall@1/5/10 from (ranked ids, positive ids) pairs."""
    rr, r1, r5, r10, n = 0.0, 0, 0, 0, 0
    for ranked, positives in rankings:
        n += 1
        first = next((i for i, pid in enumerate(ranked[:10]) if pid in positives), None)
        if first is not None:
            rr += 1.0 / (first + 1)
            r1 += first < 1
            r5 += first < 5
            r10 += 1
    if not n:
        return Metrics(0.0, 0.0, 0.0, 0.0, 0)
    return Metrics(rr / n, r1 / n, r5 / n, r10 / n, n)


def decide(answerable: list[Quoted], unanswerable: list[Quoted], threshold: float) -> Decision:
    """Measure the no-answer decision at ``threshold`` over precomputed hit confidences."""

    def quotes(q: Quoted) -> list[bool]:
        return [
            pos for conf, pos in zip(q.confidences, q.positive, strict=True) if conf >= threshold
        ]

    answered = [quotes(q) for q in answerable]
    share = lambda count, total: count / total if total else 0.0  # noqa: E731
    return Decision(
        threshold=threshold,
        answered=share(sum(bool(a) for a in answered), len(answerable)),
        gold_first=share(sum(bool(a) and a[0] for a in answered), len(answerable)),
        false_quotes=share(sum(bool(quotes(q)) for q in unanswerable), len(unanswerable)),
        n_unanswerable=len(unanswerable),
    )


def tradeoff(
    answerable: list[Quoted],
    unanswerable: list[Quoted],
    thresholds: Iterable[float] = TRADEOFF_THRESHOLDS,
) -> tuple[Decision, ...]:
    """Return the decision at each threshold, loosest first."""
    return tuple(decide(answerable, unanswerable, t) for t in sorted(thresholds))


def index_eval_corpus(
    eval_dir: Path,
    work_dir: Path,
    embedder: Embedder,
    cache: EmbeddingCache | None,
    progress: BuildProgress | None,
) -> Searcher:
    """Index ``eval_dir/corpus.jsonl`` into ``work_dir`` and return its searcher."""
    corpus = eval_dir / CORPUS_FILE
    if not corpus.is_file():
        raise RetrievalError(
            f"{corpus} not found; an eval folder holds {CORPUS_FILE} and {QUESTIONS_FILE}."
        )
    return index_corpus_file(corpus, work_dir, embedder, cache, progress)[1]


def index_corpus_file(
    corpus: Path,
    work_dir: Path,
    embedder: Embedder,
    cache: EmbeddingCache | None = None,
    progress: BuildProgress | None = None,
) -> tuple[BuildReport, Searcher]:
    """Index one JSONL file into ``work_dir/index``; return the build report and its searcher."""
    data_dir = work_dir / "data"
    data_dir.mkdir()
    (data_dir / corpus.name).symlink_to(corpus.resolve())
    report = build_index(data_dir, work_dir / "index", embedder, cache, progress)
    return report, load_index(work_dir / "index", embedder)


def evaluate(
    eval_dir: Path,
    embedder: Embedder,
    strip: bool = False,
    cache: EmbeddingCache | None = None,
    progress: BuildProgress | None = None,
    settings: SearchSettings | None = None,
) -> Report:
    """Index the eval corpus in a temporary directory and score its questions.

    Args:
        eval_dir: folder with ``corpus.jsonl``, ``questions.jsonl`` and optionally
            ``unanswerable.jsonl``.
        embedder: the model to index and search with.
        strip: ask every question without diacritics.
        cache: embedding cache reused across runs.
        progress: build progress callback.
        settings: search settings (default: :class:`SearchSettings`), incl. ``min_confidence``.

    Returns:
        The retrieval metrics, and the no-answer decision when ``unanswerable.jsonl`` exists.

    Raises:
        RetrievalError: the folder lacks a file, or a question row is unreadable.
    """
    questions = read_questions(eval_dir, strip)
    unanswerable = read_unanswerable(eval_dir, strip)
    with tempfile.TemporaryDirectory(prefix="vnqa-eval-") as tmp:
        searcher = index_eval_corpus(eval_dir, Path(tmp), embedder, cache, progress)
        if settings:
            searcher.settings = settings
        rankings, quoted = [], []
        for question in questions:
            hits = searcher.rank(question.text, RANK_DEPTH * 4)
            rankings.append((ranked_ids(hits), question.positive_ids))
            quoted.append(_quoted(hits, question.positive_ids))
        metrics = score(rankings)
        if unanswerable is None:
            return Report(metrics)
        missing = [
            _quoted(searcher.rank(q.text, DEFAULT_TOP_K), frozenset()) for q in unanswerable
        ]
    threshold = searcher.settings.min_confidence
    return Report(metrics, decide(quoted, missing, threshold), tradeoff(quoted, missing))


def _quoted(hits: list[Hit], positives: frozenset[str]) -> Quoted:
    """Keep what ``Searcher.search(question, DEFAULT_TOP_K)`` would weigh: the first hits."""
    first = hits[:DEFAULT_TOP_K]
    return Quoted(
        tuple(h.confidence for h in first), tuple(h.chunk.article_id in positives for h in first)
    )
