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
        # Plain ndarray views of the maps: numpy's memmap subclass makes every slice slower.
        arrays = [np.asarray(np.load(directory / name, mmap_mode="r")) for name in names]
        return cls(*arrays)


def merge(older: Postings, newer: Postings, removed: np.ndarray) -> Postings:
    """Return ``older`` with ``newer`` inserted and the ``removed`` ids dropped.

    Every id of ``newer`` must be above those of ``older`` (new paragraphs get new ids), so
    each term's postings stay in id order when ``newer``'s go after ``older``'s. The work is
    two ``np.insert`` calls and one mask over ``older``'s arrays: no sort, no 64-bit copies.
    """
    where = np.searchsorted(older.keys, newer.keys)
    found = where < len(older.keys)
    found[found] = older.keys[where[found]] == newer.keys[found]
    sizes = np.diff(newer.starts)
    entry_at = np.repeat(older.starts[where + found], sizes)
    ids = np.insert(older.ids, entry_at, newer.ids)
    counts = np.insert(older.counts, entry_at, newer.counts)
    lengths = np.diff(older.starts)
    lengths[where[found]] += sizes[found]
    lengths = np.insert(lengths, where[~found], sizes[~found])
    keys = np.insert(older.keys, where[~found], newer.keys[~found])
    docs = np.concatenate([older.docs, newer.docs])
    doc_lengths = np.concatenate([older.lengths, newer.lengths])
    if len(removed) and len(docs):
        dead = np.zeros(int(max(docs.max(), removed.max())) + 1, bool)
        dead[removed] = True
        keep = ~dead[ids]
        ids, counts = ids[keep], counts[keep]
        lengths = (
            np.add.reduceat(keep, np.r_[0, np.cumsum(lengths)[:-1]]) if len(keep) else lengths
        )
        keys, lengths = keys[lengths > 0], lengths[lengths > 0]
        live = ~dead[docs]
        docs, doc_lengths = docs[live], doc_lengths[live]
    starts = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    return Postings(keys, starts, ids, counts, docs, doc_lengths)


def _concat(arrays: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(arrays).astype(dtype) if arrays else np.zeros(0, dtype)
