"""Second-stage features of a question's candidate paragraphs, for ranking and the no-answer cut.

The first stage (``index.search``) mixes z-scored dense cosines and BM25 scores and keeps the
best :data:`POOL_SIZE` paragraphs. Here each of them gets :data:`FEATURES`: the two legs'
scores and ranks, how much of the question's vocabulary (weighted by IDF) the paragraph holds,
whether its rare words and numbers are there, and the same evidence for the paragraph's whole
article as far as the pool shows it (questions are about an article; a paragraph whose article
matches the question as a whole is more likely the answer). ``index.ranker`` turns the
features into a ranking score and a confidence.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.lexical import ACCENTED, terms
from index.models import Chunk
from index.text import fold

POOL_SIZE = 250
# Common function words (folded): never bolded, and not counted as evidence of an answer.
STOPWORDS = frozenset(
    "va cua la co duoc cac nhung trong cho voi mot nay do thi khi da se den tu tai ve nhu cung "  # noqa: SIM905
    "nhieu hon ra vao len thanh theo bi o nao gi bao ai sao the nam ngay nhieu bao_nhieu the_nao "
    "khong gi ai dau nao la_gi".split()
)
FEATURES = (
    "dense_z",  # z-score of the cosine over the first-stage candidates
    "lexical_z",  # z-score of BM25 over the same candidates
    "dense",  # cosine, [-1, 1]
    "dense_rank",  # 1 / (1 + rank by cosine among the candidates)
    "lexical_rank",  # 1 / (1 + rank by BM25)
    "coverage",  # IDF-weighted share of the question's content words in the paragraph
    "bigram_coverage",  # share of the question's syllable pairs in the paragraph
    "missing_idf",  # IDF / 10 of the rarest content word the paragraph lacks
    "number_coverage",  # share of the question's numbers in the paragraph (1 without numbers)
    "accented_coverage",  # IDF-weighted share of the question's words as spelled (diacritics)
    "article_best",  # best first-stage score among the article's pooled paragraphs
    "article_coverage",  # coverage of the article's pooled paragraphs taken together
    "article_size",  # log(1 + pooled paragraphs of the article)
    "article_lexical",  # best lexical_z of the article
    "article_dense",  # best dense_z of the article
    "dense_gap",  # cosine minus the best cosine of the pool
    "lexical_share",  # BM25 / best BM25 of the pool, [0, 1]
    "rare_hit",  # IDF / 10 of the rarest content word the paragraph holds
    "rare_coverage",  # IDF-weighted share of the question's three rarest content words
    "article_bigram_coverage",  # bigram_coverage of the article's pooled paragraphs together
    "article_missing_idf",  # missing_idf of the article's pooled paragraphs together
    "article_missing_rare",  # share of the question's rare words (IDF > 5) the article lacks
    # How broadly BM25 backs the article, beyond its best paragraph (4-fold CV by article on
    # news-dev + dev, accented questions, medians over six partitions: news-dev MRR@10
    # 0.783 -> 0.785, R@5 0.877 -> 0.877; dev R@5 0.966 -> 0.969).
    "article_lexical_mean",  # mean lexical_z of the article's pooled paragraphs
    "article_lexical_top",  # its paragraphs among the BM25 top 10 of the candidates, / 3
    # Squares and products of the four strongest signals (measured: +0.007 MRR@10 on news-dev).
    "dense_z_squared",
    "lexical_z_squared",
    "coverage_squared",
    "article_coverage_squared",
    "dense_z_lexical_z",
    "dense_z_coverage",
    "lexical_z_coverage",
    # The kind of answer asked for, found in the paragraph: "bao nhiêu" and a number the question
    # does not hold; "khi nào" and a date; "ai" / "ở đâu" and a capitalised name.
    "asks_number_has_number",
    "asks_time_has_date",
    "asks_person_has_name",
    "asks_place_has_name",
)
_STRONGEST = ("dense_z", "lexical_z", "coverage", "article_coverage")
_LEXICAL_TOP = 10
RARE_IDF = 5.0  # IDF above which a word is a name or a term, not topic vocabulary
# What a question asks for, on its folded text.
_ASKS = (
    re.compile(
        r"\b(bao nhieu|bao lau|may (nguoi|ca|lan|ngay|nam|thang|gio|tuoi)|ty le|so luong)\b"
    ),
    re.compile(
        r"\b(khi nao|luc nao|bao gio|nam nao|thang nao|ngay nao|thoi gian nao|thoi diem)\b"
    ),
    re.compile(r"\b(ai|nguoi nao)\b"),
    re.compile(r"\b(o dau|noi nao|dia diem nao|tinh nao|nuoc nao)\b"),
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_DATE = re.compile(r"\b\d{1,2}/\d{1,2}\b|\b(?:năm|tháng|ngày|sáng|chiều|tối) \d|\b(?:19|20)\d\d\b")
# Two or more capitalised syllables in a row, not at the start of a sentence: a name.
_NAME = re.compile(r"(?<![.!?:] )(?<!^)\b[A-ZĐ][\w]*(?: [A-ZĐ][\w]*)+")


@dataclass(frozen=True)
class QuestionTerms:
    """The question's words with their IDF in the archive.

    Attributes:
        content: folded content words (stopwords removed unless nothing else is left).
        idf: their IDF, same order, ``ln(1 + (N - df + 0.5) / (df + 0.5))`` (> 0).
        bigrams: folded syllable pairs (``gia_tri``).
        accented: ``(term, idf)`` of the words as spelled (``=giá``).
        numbers: content words holding a digit.
    """

    content: tuple[str, ...]
    idf: np.ndarray
    bigrams: tuple[str, ...]
    accented: tuple[tuple[str, float], ...]
    numbers: tuple[str, ...]
    folded: str = ""

    @property
    def checked(self) -> list[str]:
        """Return the terms whose presence :func:`pool_features` needs, in its column order."""
        return [*self.content, *self.bigrams, *(t for t, _ in self.accented)]


def question_terms(
    text: str, frequencies: dict[str, int], count: int, spelled: str | None = None
) -> QuestionTerms:
    """Split a question into weighted terms.

    Args:
        text: the question (canonical form).
        frequencies: document frequency of every term of :func:`term_list` of ``text`` and
            of ``spelled``.
        count: paragraphs in the archive (the N of IDF).
        spelled: the question with diacritics put back (``index.accents``) when it was typed
            without them; its accented words are checked instead of the typed ones.
    """
    found = term_list(text)
    spelled_terms = term_list(spelled) if spelled else found
    unigrams = [t for t in found if not t.startswith(ACCENTED) and "_" not in t]
    content = [t for t in unigrams if t not in STOPWORDS] or unigrams

    def idf(term: str) -> float:
        df = frequencies.get(term, 0)
        return math.log1p((count - df + 0.5) / (df + 0.5))

    accented = [t for t in spelled_terms if t.startswith(ACCENTED) and "_" not in t]
    return QuestionTerms(
        content=tuple(content),
        idf=np.array([idf(t) for t in content], dtype=np.float64),
        bigrams=tuple(t for t in found if not t.startswith(ACCENTED) and "_" in t),
        accented=tuple((t, idf(t)) for t in accented if fold(t[1:]) in content),
        numbers=tuple(t for t in content if any(c.isdigit() for c in t)),
        folded=fold(text),
    )


def term_list(text: str) -> list[str]:
    """Return the distinct index terms of a question (see ``index.lexical.terms``)."""
    return list(dict.fromkeys(terms(text)))


def pool_features(
    question: QuestionTerms,
    chunks: list[Chunk],
    articles: Sequence[str],
    presence: np.ndarray,
    first_stage: np.ndarray,
    dense: np.ndarray,
    lexical: np.ndarray,
    dense_z: np.ndarray,
    lexical_z: np.ndarray,
    dense_rank: np.ndarray,
    lexical_rank: np.ndarray,
) -> np.ndarray:
    """Return the :data:`FEATURES` of pooled paragraphs, shape ``(n, len(FEATURES))``.

    ``articles`` gives each paragraph's :func:`article_key`; ``presence`` is
    ``(n, len(question.checked))``: whether each paragraph (with its title) holds each checked
    term. Every other array has shape ``(n,)``, row-aligned with ``chunks``; ranks are 0-based
    among all first-stage candidates.
    """
    own = _evidence(question, presence)
    group = article_groups(articles)
    unions = np.zeros((int(group.max(initial=-1)) + 1, presence.shape[1]), dtype=bool)
    np.logical_or.at(unions, group, presence)
    joint = _evidence(question, unions)
    rare = question.idf > RARE_IDF
    missing_rare = (rare & ~unions[:, : len(question.content)]).sum(axis=1) / max(rare.sum(), 1)
    sizes = np.bincount(group, minlength=len(unions))
    article = np.column_stack(
        [
            _group_max(first_stage, group, len(unions)),
            joint[group, 0],
            np.log1p(sizes)[group],
            _group_max(lexical_z, group, len(unions)),
            _group_max(dense_z, group, len(unions)),
            joint[group, 1],
            joint[group, 2],
            missing_rare[group],
            (np.bincount(group, lexical_z, len(unions)) / sizes)[group],
            np.bincount(group, lexical_rank < _LEXICAL_TOP)[group] / 3,
        ]
    ).reshape(len(chunks), 10)
    top_lexical = float(lexical.max()) if len(lexical) else 0.0
    linear = np.column_stack(
        [
            dense_z,
            lexical_z,
            dense,
            1.0 / (1.0 + dense_rank),
            1.0 / (1.0 + lexical_rank),
            own[:, :5],
            article[:, :5],
            dense - (dense.max() if len(dense) else 0.0),
            lexical / top_lexical if top_lexical > 0 else np.zeros(len(chunks)),
            own[:, 5:],
            article[:, 5:],
        ]
    )
    strong = linear[:, [FEATURES.index(name) for name in _STRONGEST]]
    products = [
        strong[:, 0] * strong[:, 1],
        strong[:, 0] * strong[:, 2],
        strong[:, 1] * strong[:, 2],
    ]
    return np.column_stack([linear, strong**2, *products, _answer_kinds(question, chunks)])


def _answer_kinds(question: QuestionTerms, chunks: list[Chunk]) -> np.ndarray:
    """Return ``(len(chunks), 4)``: the kind of answer asked for (number, date, person, place),
    1 where the paragraph holds such a thing the question does not."""
    asked = [bool(pattern.search(question.folded)) for pattern in _ASKS]
    found = np.zeros((len(chunks), 4))
    if not any(asked):
        return found
    known = {n.replace(",", ".") for n in _NUMBER.findall(question.folded)}
    for row, chunk in enumerate(chunks):
        numbers = {n.replace(",", ".") for n in _NUMBER.findall(chunk.text)} - known
        names = bool(_NAME.search(chunk.text))
        found[row] = [bool(numbers), bool(_DATE.search(chunk.text)), names, names]
    return found * np.array(asked, dtype=float)


def _evidence(question: QuestionTerms, present: np.ndarray) -> np.ndarray:
    """Return ``(m, 7)``: coverage, bigram coverage, missing IDF, numbers, accented coverage,
    rare hit, rare coverage, of ``present`` (``(m, len(question.checked))`` booleans)."""
    n_content, n_bigrams = len(question.content), len(question.bigrams)
    held = present[:, :n_content]
    weights = question.idf
    rarest = np.argsort(-weights)[:3]
    numbers = [i for i, t in enumerate(question.content) if t in question.numbers]
    accented = np.array([w for _, w in question.accented])
    columns = [
        held @ weights / (weights.sum() or 1.0),
        present[:, n_content : n_content + n_bigrams].mean(axis=1) if n_bigrams else None,
        np.where(held, 0.0, weights).max(axis=1, initial=0.0) / 10,
        held[:, numbers].mean(axis=1) if numbers else 1.0,
        present[:, n_content + n_bigrams :] @ accented / (accented.sum() or 1.0),
        np.where(held, weights, 0.0).max(axis=1, initial=0.0) / 10,
        held[:, rarest] @ weights[rarest] / (weights[rarest].sum() or 1.0),
    ]
    rows = len(present)
    return np.column_stack(
        [np.zeros(rows) if c is None else np.broadcast_to(c, rows) for c in columns]
    )


def article_key(chunk: Chunk) -> str:
    """Return what groups paragraphs into one article: the folded title, else the article id.

    By title because JSONL imports (and the eval corpora) give each passage its own row.
    """
    return _folded_title(chunk.title) or chunk.article_id


@functools.lru_cache(maxsize=1 << 14)  # titles repeat across questions; folding 250 costs ~5 ms
def _folded_title(title: str) -> str:
    return fold(title)


def article_groups(articles: Sequence[str]) -> np.ndarray:
    """Return each row's article number (0, 1, ... by first appearance), shape ``(n,)``."""
    numbers: dict[str, int] = {}
    return np.array([numbers.setdefault(key, len(numbers)) for key in articles], np.intp)


def _group_max(values: np.ndarray, group: np.ndarray, groups: int) -> np.ndarray:
    """Return, for each row, the largest of ``values`` over the rows of its group."""
    best = np.full(groups, -np.inf)
    np.maximum.at(best, group, values)
    return best[group]
