"""BM25 behind the ``LexicalStore`` seam: a base segment, a small delta segment, tombstones.

Scores are computed at query time from raw term counts and the live corpus (N, document
frequencies, average length), so an index updated in place ranks exactly like one rebuilt from
scratch: idf = ln(1 + (N - df + 0.5) / (df + 0.5)), weight = idf * tf * (k1 + 1) /
(tf + k1 * (1 - b + b * length / average length)). New paragraphs go to the delta segment, which
is merged into the base when it outgrows ``DELTA_SHARE`` of it (or tombstones pass
``COMPACT_SHARE``).

Top-k search is exact but skips most postings of common terms (MaxScore, see
``index.stores.maxscore``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from index.lexical import terms
from index.stores.base import ID_DTYPE, Scored, positions
from index.stores.maxscore import Corpus, QueryTerms, scores_of, top_k
from index.stores.postings import ARRAYS, Postings, merge, term_hashes

DEFAULT_K1 = 1.2
DEFAULT_B = 0.75
DELTA_SHARE = 0.1
DELTA_MIN = 2_000
COMPACT_SHARE = 0.25
RECENT_BYTES = 32 * 2**20  # postings remembered by term (see Bm25Store._postings), at most

_EMPTY = Postings.build(np.zeros(0, ID_DTYPE), [])


class Bm25Store:
    """Vietnamese BM25 over paragraph ids (terms: ``index.lexical.terms``)."""

    def __init__(
        self,
        base: Postings,
        delta: Postings | None = None,
        removed: np.ndarray | None = None,
        base_stem: str = "",
        k1: float = DEFAULT_K1,
        b: float = DEFAULT_B,
    ) -> None:
        """Serve ``base`` + ``delta`` minus the ``removed`` ids."""
        self.base = base
        self.delta = delta or Postings.build(np.zeros(0, ID_DTYPE), [])
        self.removed = np.zeros(0, ID_DTYPE) if removed is None else np.asarray(removed, ID_DTYPE)
        self.k1, self.b = k1, b
        self._base_stem = base_stem
        self._last: tuple[str, QueryTerms] | None = None
        self._lock = threading.Lock()
        self._refresh()

    @classmethod
    def build(cls, ids: np.ndarray, texts: Iterable[str]) -> Bm25Store:
        """Index ``texts`` under ascending ``ids``."""
        return cls(Postings.build(np.asarray(ids, ID_DTYPE), (terms(t) for t in texts)))

    @property
    def count(self) -> int:
        """Return how many live paragraphs are indexed."""
        return self._count

    def search(self, query: str, k: int) -> Scored:
        """Return up to ``k`` paragraphs with BM25 > 0 for ``query``, best first (exact top k)."""
        found = self._terms(query)
        if not found.postings or k <= 0:
            return Scored.empty()
        hits, scores = top_k(found, self._corpus, k)
        by_id = np.argsort(hits)  # ties: lower id first, as with a full scan
        hits, scores = hits[by_id], scores[by_id]
        order = np.argsort(-scores, kind="stable")
        return Scored(hits[order].astype(ID_DTYPE), scores[order].astype(np.float32))

    def score(self, ids: np.ndarray, query: str) -> np.ndarray:
        """Return the BM25 score of ``query`` for each of ``ids`` (0 for unknown ids)."""
        ids = np.asarray(ids, ID_DTYPE)
        found = self._terms(query)
        inside = ids < len(self._lengths)
        wanted = ids[inside].astype(np.intp)
        total = scores_of(found, wanted, self._corpus)
        total[np.isin(wanted, self.removed)] = 0.0
        out = np.zeros(len(ids), np.float32)
        out[inside] = total
        return out

    def document_frequencies(self, terms: Iterable[str]) -> dict[str, int]:
        """Return how many live paragraphs contain each index term (0 for unknown terms)."""
        wanted = list(dict.fromkeys(terms))
        return {t: live for t, (_, _, live) in zip(wanted, self._postings(wanted), strict=True)}

    def presence(self, ids: np.ndarray, terms: list[str]) -> np.ndarray:
        """Return whether each paragraph of ``ids`` holds each term, ``(len(ids), len(terms))``."""
        ids = np.asarray(ids, ID_DTYPE)
        found = np.zeros((len(ids), len(terms)), dtype=bool)
        for column, (holders, _, _) in enumerate(self._postings(list(terms))):
            # Postings list ids in ascending order (base, then the newer delta).
            found[:, column] = positions(holders, ids) >= 0
        return found

    def add(self, ids: np.ndarray, texts: list[str]) -> None:
        """Index ``texts`` under new ascending ``ids``."""
        ids = np.asarray(ids, ID_DTYPE)
        if len(ids) != len(texts):
            raise ValueError("one id per text")
        if len(ids) and (ids.min() < len(self._lengths) or np.any(np.diff(ids) <= 0)):
            raise ValueError("lexical ids must be new and ascending")
        fresh = Postings.build(ids, [terms(t) for t in texts])
        self.delta = merge(self.delta, fresh, np.zeros(0, ID_DTYPE))
        if len(self.delta.docs) > max(DELTA_MIN, DELTA_SHARE * len(self.base.docs)):
            self._merge()
        self._refresh()

    def remove(self, ids: np.ndarray) -> None:
        """Remove ids (unknown ones are ignored)."""
        ids = np.asarray(ids, ID_DTYPE)
        in_delta = np.isin(ids, self.delta.docs)
        if in_delta.any():
            self.delta = merge(self.delta, _EMPTY, ids[in_delta])
        in_base = ids[~in_delta][np.isin(ids[~in_delta], self.base.docs)]
        self.removed = np.union1d(self.removed, in_base)
        if len(self.removed) > COMPACT_SHARE * len(self.base.docs):
            self._merge()
        self._refresh()

    def save(self, directory: Path, tag: str) -> list[str]:
        """Write the base (only if it changed), the delta and the tombstones; return names."""
        if not self._base_stem:
            self._base_stem = f"lexical-{tag}"
            self.base.save(directory, self._base_stem)
        base = [f"{self._base_stem}-{name}.npy" for name in ARRAYS]
        delta = self.delta.save(directory, f"lexical-{tag}-delta")
        np.save(directory / f"lexical-{tag}-removed.npy", self.removed)
        return [*base, *delta, f"lexical-{tag}-removed.npy"]

    @classmethod
    def load(cls, directory: Path, names: list[str]) -> Bm25Store:
        """Read a store written by :meth:`save` (the base is memory-mapped)."""
        size = len(ARRAYS)
        base = Postings.load(directory, names[:size])
        delta = Postings.load(directory, names[size : 2 * size])
        stem = names[0].removesuffix(f"-{ARRAYS[0]}.npy")
        return cls(base, delta, np.load(directory / names[2 * size]), stem)

    def _merge(self) -> None:
        self.base = merge(self.base, self.delta, self.removed)
        self.delta = Postings.build(np.zeros(0, ID_DTYPE), [])
        self.removed = np.zeros(0, ID_DTYPE)
        self._base_stem = ""

    def _refresh(self) -> None:
        """Recompute the live corpus statistics (N, average length, length norm by id)."""
        docs = np.concatenate([self.base.docs, self.delta.docs]).astype(ID_DTYPE)
        lengths = np.concatenate([self.base.lengths, self.delta.lengths]).astype(np.float64)
        live = ~np.isin(docs, self.removed)
        size = int(docs.max()) + 1 if len(docs) else 0
        self._lengths = np.zeros(size, np.float64)
        # Empty paragraphs have no postings, so a zero length also marks removed ids.
        self._lengths[docs[live]] = lengths[live]
        self._count = int(live.sum())
        mean = float(lengths[live].mean()) if self._count else 0.0
        self._average = mean if mean > 0 else 1.0
        # The per-paragraph part of BM25's denominator, computed once instead of per query.
        norm = self.k1 * (1 - self.b + self.b * self._lengths / self._average)
        self._corpus = Corpus(norm, self.k1, self.removed)
        self._last = None
        self._recent: dict[str, tuple[np.ndarray, np.ndarray, int]] = {}
        self._recent_bytes = 0

    def _postings(self, query_terms: list[str]) -> list[tuple[np.ndarray, np.ndarray, int]]:
        """Return (ids, counts, live count) of each term over both segments.

        The ids still include removed paragraphs (tombstones are only dropped when the base
        is merged): filtering every posting of a common term costs as much as scoring it, so
        removed ids are zeroed in the scores instead and only counted out of the frequencies.
        Terms looked up recently are remembered (a question asks for the same terms up to
        three times: frequencies, search, presence), until the store changes.
        """
        with self._lock:
            known = {t: self._recent[t] for t in query_terms if t in self._recent}
        wanted = [t for t in dict.fromkeys(query_terms) if t not in known]
        if wanted:
            hashes = term_hashes(wanted)
            for term, (ids_a, tf_a), (ids_b, tf_b) in zip(
                wanted, self.base.lookup(hashes), self.delta.lookup(hashes), strict=True
            ):
                ids = np.concatenate([ids_a, ids_b]) if len(ids_b) else ids_a
                counts = np.concatenate([tf_a, tf_b]) if len(ids_b) else tf_a
                known[term] = (ids, counts, len(ids) - self._removed_among(ids_a))
            size = sum(known[t][0].nbytes + known[t][1].nbytes for t in wanted)
            with self._lock:
                if self._recent_bytes + size > RECENT_BYTES:
                    self._recent.clear()
                    self._recent_bytes = 0
                self._recent.update((t, known[t]) for t in wanted)
                self._recent_bytes += size
        return [known[t] for t in query_terms]

    def _removed_among(self, ids: np.ndarray) -> int:
        """Return how many of the ascending ``ids`` are tombstoned (only base ids are)."""
        return int(np.count_nonzero(positions(ids, self.removed) >= 0))

    def _terms(self, query: str) -> QueryTerms:
        """Return the live postings and idf of ``query``'s terms; cached for one query."""
        with self._lock:
            if self._last is not None and self._last[0] == query:
                return self._last[1]
        found_terms = self._postings(list(dict.fromkeys(terms(query))))
        live = sorted((p for p in found_terms if p[2]), key=lambda p: p[2])
        sizes = np.array([p[2] for p in live], np.float64)
        found = QueryTerms(
            [(ids, counts) for ids, counts, _ in live],
            np.log1p((self._count - sizes + 0.5) / (sizes + 0.5)),
        )
        with self._lock:
            self._last = (query, found)
        return found
