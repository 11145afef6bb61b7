"""Storage backends behind one seam: dense vectors and the lexical index, by paragraph id."""

from __future__ import annotations

from index.stores.base import DenseStore, LexicalStore, ParagraphSource, Scored
from index.stores.bm25 import Bm25Store
from index.stores.dense import FaissDenseStore

__all__ = [
    "Bm25Store",
    "DenseStore",
    "FaissDenseStore",
    "LexicalStore",
    "ParagraphSource",
    "Scored",
]
