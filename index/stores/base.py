"""The storage seam: what ``Searcher`` asks of a dense store and of a lexical index.

Both speak in paragraph ids (``int64``, stable across incremental updates) and return
:class:`Scored` arrays, so the fusion in ``index.search`` never sees a backend's internals.
FAISS (``index.stores.dense``) and our BM25 postings (``index.stores.lexical``) implement
them today; a Qdrant store (dense + our own sparse lexical vectors + payload) can implement
both protocols at once and answer a question in one round trip.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from index.models import Chunk

ID_DTYPE = np.int64


def positions(haystack: np.ndarray, needles: np.ndarray) -> np.ndarray:
    """Return the index of each needle in the ascending ``haystack``, or -1 when absent."""
    if not len(haystack):
        return np.full(len(needles), -1, np.int64)
    where = np.minimum(np.searchsorted(haystack, needles), len(haystack) - 1)
    return np.where(haystack[where] == needles, where, -1)


@dataclass(frozen=True)
class Scored:
    """Candidates of one query, best first.

    Attributes:
        ids: paragraph ids, shape ``(n,)``, ``int64``.
        scores: their scores, shape ``(n,)``, ``float32``; higher is better (cosine in
            [-1, 1] for a dense store, BM25 >= 0 for the lexical index).
    """

    ids: np.ndarray
    scores: np.ndarray

    @classmethod
    def empty(cls) -> Scored:
        """Return no candidates."""
        return cls(np.zeros(0, ID_DTYPE), np.zeros(0, np.float32))


class DenseStore(Protocol):
    """Unit vectors by paragraph id; inner product is cosine."""

    @property
    def kind(self) -> str:
        """Return what serves the vectors (e.g. ``IndexHNSWFlat``), for the manifest."""
        ...

    @property
    def count(self) -> int:
        """Return how many live (not removed) vectors the store holds."""
        ...

    def search(self, vector: np.ndarray, k: int) -> Scored:
        """Return up to ``k`` nearest ids to ``vector`` (shape ``(dim,)``) by cosine."""
        ...

    def score(self, ids: np.ndarray, vector: np.ndarray) -> np.ndarray:
        """Return the cosine of ``vector`` with each of ``ids`` (all live), shape ``(len(ids),)``.

        Raises:
            KeyError: an id is not in the store.
        """
        ...

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add unit ``vectors`` (shape ``(n, dim)``) under new ``ids``, each above every id held.

        Raises:
            ValueError: shapes disagree or an id is not new.
        """
        ...

    def remove(self, ids: np.ndarray) -> None:
        """Remove ``ids``; unknown ids are ignored."""
        ...

    def save(self, directory: Path, tag: str) -> list[str]:
        """Write what changed since the last save (new names carry ``tag``); return all names."""
        ...


class LexicalStore(Protocol):
    """BM25 over paragraph texts by paragraph id (see ``index.lexical`` for the terms)."""

    @property
    def count(self) -> int:
        """Return how many live paragraphs are indexed (the N of IDF)."""
        ...

    def search(self, query: str, k: int) -> Scored:
        """Return up to ``k`` paragraphs sharing a term with ``query``, by BM25 (> 0)."""
        ...

    def score(self, ids: np.ndarray, query: str) -> np.ndarray:
        """Return the BM25 score (>= 0) of ``query`` for each of ``ids``, shape ``(len(ids),)``."""
        ...

    def document_frequencies(self, terms: Iterable[str]) -> dict[str, int]:
        """Return how many live paragraphs contain each index term (0 for unknown terms)."""
        ...

    def presence(self, ids: np.ndarray, terms: list[str]) -> np.ndarray:
        """Return whether each paragraph of ``ids`` holds each term, ``(len(ids), len(terms))``."""
        ...

    def add(self, ids: np.ndarray, texts: list[str]) -> None:
        """Index ``texts`` under new ``ids`` (each above every id held).

        Raises:
            ValueError: lengths disagree or an id is not new.
        """
        ...

    def remove(self, ids: np.ndarray) -> None:
        """Remove ``ids``; unknown ids are ignored."""
        ...

    def save(self, directory: Path, tag: str) -> list[str]:
        """Write what changed since the last save (new names carry ``tag``); return all names."""
        ...


class ParagraphSource(Protocol):
    """Paragraph texts and metadata by id (SQLite today, a payload store later)."""

    def get(self, ids: list[int]) -> list[Chunk]:
        """Return the chunks of ``ids`` in order; raise KeyError for an unknown id."""
        ...

    def at(self, article_id: str, position: int) -> Chunk | None:
        """Return the chunk at ``position`` (0-based) of an article, or None."""
        ...
