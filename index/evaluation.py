"""Retrieval quality on a QA folder: Recall@1/5/10 and MRR@10 over a temporary index."""

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
from index.pipeline import BuildProgress, BuildReport, build_index, load_index
from index.search import Searcher, SearchSettings

CORPUS_FILE = "corpus.jsonl"
QUESTIONS_FILE = "questions.jsonl"
RANK_DEPTH = 10


@dataclass(frozen=True)
class Question:
    """One eval question and the passage ids that answer it."""

    qid: str
    text: str
    positive_ids: frozenset[str]


@dataclass(frozen=True)
class Metrics:
    """Retrieval metrics over a question set."""

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
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            text = strip_diacritics(row["question"]) if strip else row["question"]
            questions.append(Question(row["id"], text, frozenset(row["positive_ids"])))
    return questions


def ranked_ids(searcher: Searcher, query: str, depth: int = RANK_DEPTH) -> list[str]:
    """Return distinct article (passage) ids in rank order; a passage counts once."""
    ids: list[str] = []
    for hit in searcher.rank(query, depth * 4):
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
) -> Metrics:
    """Index the eval corpus in a temporary directory and score its questions."""
    questions = read_questions(eval_dir, strip)
    with tempfile.TemporaryDirectory(prefix="vnqa-eval-") as tmp:
        searcher = index_eval_corpus(eval_dir, Path(tmp), embedder, cache, progress)
        if settings:
            searcher.settings = settings
        return score((ranked_ids(searcher, q.text), q.positive_ids) for q in questions)
