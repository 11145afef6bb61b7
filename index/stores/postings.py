"""One segment of the lexical index: term -> (paragraph ids, term counts), as flat arrays.

Terms are stored as 64-bit BLAKE2b hashes, sorted, so the vocabulary is one ``uint64`` array
searched with ``np.searchsorted`` instead of millions of Python strings (two of the ~4 million
terms of 1M paragraphs collide with probability ~1e-6, and a collision only merges two
postings lists). Arrays are saved as ``.npy`` files and memory-mapped when loaded: a query
touches only the pages of its own terms.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ARRAYS = ("keys", "starts", "ids", "counts", "docs", "lengths")


def term_hashes(terms: Iterable[str]) -> np.ndarray:
    """Return the ``uint64`` hash of each term, in order."""
    digests = b"".join(hashlib.blake2b(t.encode(), digest_size=8).digest() for t in terms)
    return np.frombuffer(digests, dtype="<u8")


@dataclass(frozen=True)
class Postings:
    """Sorted term hashes ``keys`` with ``ids[starts[i]:starts[i+1]]`` holding term ``i``.

    ``counts`` are the term's occurrences in each paragraph (``uint16``); ``docs`` are the
    segment's paragraph ids (ascending) and ``lengths`` their numbers of terms.
    """

    keys: np.ndarray
    starts: np.ndarray
    ids: np.ndarray
    counts: np.ndarray
    docs: np.ndarray
    lengths: np.ndarray

    @classmethod
    def build(cls, ids: np.ndarray, term_lists: Iterable[list[str]]) -> Postings:
        """Index the terms of each paragraph (``term_lists[i]`` belongs to ``ids[i]``)."""
        keys, owners, counts, lengths = [], [], [], []
        for doc, terms in zip(ids, term_lists, strict=True):
            counter = Counter(terms)
            keys.append(term_hashes(counter))
            counts.append(np.fromiter(counter.values(), np.uint16, len(counter)))
            owners.append(np.full(len(counter), doc, np.int64))
            lengths.append(len(terms))
        return cls.from_triples(
            _concat(keys, np.uint64),
            _concat(owners, np.int64),
            _concat(counts, np.uint16),
            np.asarray(ids, np.int64),
            np.asarray(lengths, np.uint32),
        )

    @classmethod
    def from_triples(
        cls,
        keys: np.ndarray,
        owners: np.ndarray,
        counts: np.ndarray,
        docs: np.ndarray,
        lengths: np.ndarray,
    ) -> Postings:
        """Sort (term, id, count) triples into a segment."""
        order = np.lexsort((owners, keys))
        keys = keys[order]
        firsts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else keys[:0]
        starts = np.r_[firsts, len(keys)].astype(np.int64)
        by_doc = np.argsort(docs, kind="stable")
        return cls(
            keys[firsts],
            starts,
            owners[order].astype(np.uint32),
            counts[order],
            docs[by_doc],
            lengths[by_doc],
        )

    def triples(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return every (term hash, id, count) entry as three arrays."""
        return np.repeat(self.keys, np.diff(self.starts)), self.ids.astype(np.int64), self.counts

    def lookup(self, hashes: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Return (ids, counts) of each term hash (empty arrays for unknown terms)."""
        where = np.searchsorted(self.keys, hashes)
        found = []
        for key, i in zip(hashes, where, strict=True):
            if i < len(self.keys) and self.keys[i] == key:
                span = slice(self.starts[i], self.starts[i + 1])
                found.append((self.ids[span], self.counts[span]))
            else:
                found.append((self.ids[:0], self.counts[:0]))
        return found

    def save(self, directory: Path, stem: str) -> list[str]:
        """Write one ``.npy`` per array; return their names."""
        names = [f"{stem}-{name}.npy" for name in ARRAYS]
        for name, file in zip(ARRAYS, names, strict=True):
            np.save(directory / file, getattr(self, name))
        return names

    @classmethod
    def load(cls, directory: Path, names: list[str]) -> Postings:
        """Memory-map a segment written by :meth:`save`."""
        arrays = [np.load(directory / name, mmap_mode="r") for name in names]
        return cls(*arrays)


def merge(segments: list[Postings], removed: np.ndarray) -> Postings:
    """Return one segment holding every entry of ``segments`` whose id is not ``removed``."""
    parts = [s.triples() for s in segments]
    keys, owners, counts = (np.concatenate([p[i] for p in parts]) for i in range(3))
    keep = ~np.isin(owners, removed)
    docs = np.concatenate([s.docs for s in segments])
    lengths = np.concatenate([s.lengths for s in segments])
    live = ~np.isin(docs, removed)
    return Postings.from_triples(keys[keep], owners[keep], counts[keep], docs[live], lengths[live])


def _concat(arrays: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(arrays).astype(dtype) if arrays else np.zeros(0, dtype)
