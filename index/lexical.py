"""BM25 over syllables and syllable bigrams, folded and accented (sparse matrix, column sums).

Vietnamese words are mostly two or more syllables ("xuất khẩu", "Phổ Yên"), so adjacent
syllable pairs carry most of the meaning. Every syllable and bigram is indexed twice: folded
("xuat", "xuat_khau"), so a question typed without diacritics matches, and accented
("=xuất", "=xuất_khẩu", tone marks in canonical placement), so a question typed with them
tells "mà" from "ma" and ranks exact spellings first. One matrix with both kinds of term equals
the sum of two BM25 indexes (document lengths double uniformly).
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from scipy import sparse

from index.text import canonical_text, token_spans

DEFAULT_K1 = 1.2
DEFAULT_B = 0.75
MATRIX_FILE = "lexical.npz"
VOCAB_FILE = "lexical_vocab.json"


ACCENTED = "="


def terms(text: str) -> list[str]:
    """Return the index terms of a text: syllables and bigrams, folded and accented."""
    canonical = canonical_text(text).lower()
    spans = token_spans(canonical)
    folded = [token for token, _, _ in spans]
    accented = [ACCENTED + canonical[start:end].replace(",", ".") for _, start, end in spans]
    return [*_with_bigrams(folded), *_with_bigrams(accented)]


def _with_bigrams(syllables: list[str]) -> list[str]:
    return syllables + [
        f"{a}_{b.removeprefix(ACCENTED)}" for a, b in itertools.pairwise(syllables)
    ]


class LexicalIndex:
    """BM25 weights of every (chunk, term) pair; a query sums the columns of its terms."""

    def __init__(self, matrix: sparse.csc_matrix, vocabulary: dict[str, int]) -> None:
        """Wrap a precomputed ``(chunks, terms)`` BM25 weight matrix and its vocabulary."""
        self.matrix = matrix
        self.vocabulary = vocabulary

    @classmethod
    def build(
        cls, texts: Iterable[str], k1: float = DEFAULT_K1, b: float = DEFAULT_B
    ) -> LexicalIndex:
        """Index texts with BM25 (idf = ln(1 + (N - df + 0.5) / (df + 0.5)))."""
        counts = [Counter(terms(text)) for text in texts]
        vocabulary: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        tfs: list[float] = []
        for row, counter in enumerate(counts):
            for term, tf in counter.items():
                rows.append(row)
                cols.append(vocabulary.setdefault(term, len(vocabulary)))
                tfs.append(tf)
        n = len(counts)
        lengths = np.array([sum(c.values()) for c in counts], dtype=np.float64)
        avg = float(lengths.mean()) if n and lengths.mean() > 0 else 1.0
        row_arr, col_arr, tf_arr = np.array(rows, int), np.array(cols, int), np.array(tfs, float)
        df = np.bincount(col_arr, minlength=len(vocabulary)) if len(vocabulary) else np.zeros(0)
        idf = np.log1p((n - df + 0.5) / (df + 0.5))
        norm = k1 * (1 - b + b * lengths[row_arr] / avg) if n else np.zeros(0)
        weights = idf[col_arr] * tf_arr * (k1 + 1) / (tf_arr + norm)
        matrix = sparse.csc_matrix(
            (weights.astype(np.float32), (row_arr, col_arr)), shape=(n, len(vocabulary))
        )
        return cls(matrix, vocabulary)

    def scores(self, query: str) -> np.ndarray:
        """Return the BM25 score of every chunk for ``query`` (zeros when nothing matches)."""
        columns = self.columns(query)
        if not columns:
            return np.zeros(self.matrix.shape[0], dtype=np.float32)
        return np.asarray(self.matrix[:, columns].sum(axis=1), dtype=np.float32).ravel()

    @property
    def count(self) -> int:
        """Return how many chunks are indexed (the N of IDF)."""
        return int(self.matrix.shape[0])

    def document_frequencies(self, query_terms: Iterable[str]) -> dict[str, int]:
        """Return how many chunks contain each index term (0 for unknown terms)."""
        indptr = self.matrix.indptr
        found = {}
        for term in query_terms:
            column = self.vocabulary.get(term)
            found[term] = 0 if column is None else int(indptr[column + 1] - indptr[column])
        return found

    def presence(self, ids: np.ndarray, query_terms: list[str]) -> np.ndarray:
        """Return whether each chunk of ``ids`` holds each term: shape ``(len(ids), n_terms)``."""
        found = np.zeros((len(ids), len(query_terms)), dtype=bool)
        known = [
            (i, self.vocabulary[t]) for i, t in enumerate(query_terms) if t in self.vocabulary
        ]
        if known and len(ids):
            columns = self.matrix[:, [column for _, column in known]]
            found[:, [i for i, _ in known]] = columns[np.asarray(ids)].toarray() > 0
        return found

    def columns(self, query: str) -> list[int]:
        """Return the matrix columns of the query's distinct known terms."""
        return sorted({self.vocabulary[t] for t in terms(query) if t in self.vocabulary})

    def save(self, directory: Path) -> list[str]:
        """Write the matrix and vocabulary into ``directory``; return the file names."""
        sparse.save_npz(directory / MATRIX_FILE, self.matrix.tocsc(), compressed=False)
        (directory / VOCAB_FILE).write_text(
            json.dumps(self.vocabulary, ensure_ascii=False), encoding="utf-8"
        )
        return [MATRIX_FILE, VOCAB_FILE]

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        """Read an index written by :meth:`save`."""
        matrix = sparse.load_npz(directory / MATRIX_FILE).tocsc()
        vocabulary = json.loads((directory / VOCAB_FILE).read_text(encoding="utf-8"))
        return cls(matrix, vocabulary)
