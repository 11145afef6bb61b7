"""FAISS behind the ``DenseStore`` seam: a base index, a small exact delta, and tombstones.

The base is exact (``IndexFlatIP``) up to ``APPROXIMATE_ABOVE`` vectors and HNSW above; new
vectors go to an in-memory delta searched exactly (a few ms even at 20,000) and saved as a small
file, so adding an article never rewrites the base. The delta is folded into the base (HNSW adds
in place) when it outgrows ``DELTA_SHARE`` of it; removed base vectors are filtered out at search
time by a FAISS ID selector and the base is rebuilt once they pass ``COMPACT_SHARE``.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from index.stores.base import ID_DTYPE, Scored, positions

# Exact search up to this many vectors, HNSW above: on 2 cores exact search costs ~0.25 ms per
# 1,000 vectors (p95 26.6 ms at 100,000; HNSW 2.4 ms), so the 5 ms budget ends near 20,000.
APPROXIMATE_ABOVE = 20_000
HNSW_NEIGHBOURS = 32
HNSW_EF_SEARCH = 96
HNSW_EF_CONSTRUCTION = 80
DELTA_SHARE = 0.05
DELTA_MIN = 2_000
COMPACT_SHARE = 0.25


def make_vector_index(vectors: np.ndarray, approximate: bool | None = None) -> faiss.Index:
    """Return a FAISS inner-product index over unit vectors: exact, or HNSW when large."""
    dim = vectors.shape[1]
    if approximate is None:
        approximate = len(vectors) > APPROXIMATE_ABOVE
    index: faiss.Index = faiss.IndexFlatIP(dim)
    if approximate:
        hnsw = faiss.IndexHNSWFlat(dim, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        hnsw.hnsw.efSearch = HNSW_EF_SEARCH
        index = hnsw
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def stored_vectors(index: faiss.Index) -> np.ndarray:
    """Return the unit vectors inside a flat or HNSW-flat index as a (n, dim) view, no copy."""
    flat: Any = (
        faiss.downcast_index(index.storage) if isinstance(index, faiss.IndexHNSW) else index
    )
    if flat.ntotal == 0:
        return np.zeros((0, flat.d), dtype=np.float32)
    return faiss.rev_swig_ptr(flat.get_xb(), flat.ntotal * flat.d).reshape(flat.ntotal, flat.d)


class FaissDenseStore:
    """Unit vectors by id in FAISS; see the module docstring for the segments."""

    def __init__(
        self,
        base: faiss.Index | Path,
        base_ids: np.ndarray,
        removed: np.ndarray | None = None,
        delta_ids: np.ndarray | None = None,
        delta: np.ndarray | None = None,
        base_name: str = "",
        kind: str = "",
    ) -> None:
        """Wrap a base index whose row ``i`` holds id ``base_ids[i]`` (ascending).

        ``base`` may be the path of a saved index, read on first use: an update that only
        adds to the delta never reads it (``delta`` then gives the dimension).
        """
        self._base = base if isinstance(base, faiss.Index) else None
        self._base_path = base if isinstance(base, Path) else None
        self._loading = threading.Lock()
        if self._base is not None:
            self.dim = int(self._base.d)
        elif delta is not None:
            self.dim = int(delta.shape[1])
        else:
            raise ValueError("a base read later needs the delta array to give the dimension")
        self._kind = kind
        self.base_ids = np.asarray(base_ids, ID_DTYPE)
        self.removed = np.zeros(0, ID_DTYPE) if removed is None else np.asarray(removed, ID_DTYPE)
        self.delta_ids = np.zeros(0, ID_DTYPE) if delta_ids is None else delta_ids
        self.delta = np.zeros((0, self.dim), np.float32) if delta is None else delta
        self._base_name = base_name
        self._params: Any = None
        self._params_stale = True

    @classmethod
    def build(cls, ids: np.ndarray, vectors: np.ndarray) -> FaissDenseStore:
        """Return a store of ``vectors`` (shape ``(n, dim)``, unit rows) under ascending ids."""
        return cls(make_vector_index(vectors), ids)

    @property
    def base(self) -> faiss.Index:
        """Return the base FAISS index, reading it from disk on first use."""
        with self._loading:
            if self._base is None and self._base_path is not None:
                self._base = faiss.read_index(str(self._base_path))
                if isinstance(self._base, faiss.IndexHNSWFlat):
                    self._base.hnsw.efSearch = HNSW_EF_SEARCH
        if self._base is None:
            raise RuntimeError("the dense store has no base index")
        return self._base

    @property
    def kind(self) -> str:
        """Return the FAISS class of the base segment."""
        return type(self._base).__name__ if self._base is not None else self._kind

    @property
    def count(self) -> int:
        """Return how many live vectors the store holds."""
        return len(self.base_ids) - len(self.removed) + len(self.delta_ids)

    def search(self, vector: np.ndarray, k: int) -> Scored:
        """Return up to ``k`` nearest live ids by cosine, best first."""
        query = np.ascontiguousarray(vector, np.float32)[None, :]
        ids, scores = [self.delta_ids], [self.delta @ query[0]]
        if len(self.base_ids) and k > 0:
            if self._params_stale:
                self._params, self._params_stale = self._search_params(), False
            found, rows = self.base.search(query, k, params=self._params)
            keep = rows[0] >= 0
            ids.append(self.base_ids[rows[0][keep]])
            scores.append(found[0][keep])
        all_ids, all_scores = np.concatenate(ids), np.concatenate(scores).astype(np.float32)
        order = np.argsort(-all_scores, kind="stable")[:k]
        return Scored(all_ids[order], all_scores[order])

    def score(self, ids: np.ndarray, vector: np.ndarray) -> np.ndarray:
        """Return the cosine of ``vector`` with each of ``ids``; raise KeyError for unknown ids."""
        return self.vectors(ids) @ np.asarray(vector, np.float32)

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """Return the stored vectors of ``ids``, shape ``(len(ids), dim)``."""
        ids = np.asarray(ids, ID_DTYPE)
        out = np.empty((len(ids), self.dim), np.float32)
        in_delta = positions(self.delta_ids, ids)
        in_base = positions(self.base_ids, ids)
        if np.any((in_delta < 0) & (in_base < 0)):
            raise KeyError(f"ids not in the dense store: {ids[(in_delta < 0) & (in_base < 0)]}")
        out[in_delta >= 0] = self.delta[in_delta[in_delta >= 0]]
        if np.any(in_base >= 0):
            out[in_base >= 0] = stored_vectors(self.base)[in_base[in_base >= 0]]
        return out

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add unit vectors under new ids (each above every id held)."""
        ids = np.asarray(ids, ID_DTYPE)
        if vectors.shape != (len(ids), self.dim):
            raise ValueError(f"expected vectors of shape ({len(ids)}, {self.dim})")
        newest = max(self.base_ids[-1:].max(initial=-1), self.delta_ids[-1:].max(initial=-1))
        if len(ids) and (ids.min() <= newest or np.any(np.diff(ids) <= 0)):
            raise ValueError("dense ids must be new and ascending")
        self.delta_ids = np.concatenate([self.delta_ids, ids])
        self.delta = np.concatenate([self.delta, vectors.astype(np.float32)])
        if len(self.delta_ids) > max(DELTA_MIN, DELTA_SHARE * len(self.base_ids)):
            self._fold()

    def remove(self, ids: np.ndarray) -> None:
        """Remove ids (unknown ones are ignored)."""
        ids = np.unique(np.asarray(ids, ID_DTYPE))
        if not len(ids):
            return
        keep = positions(ids, self.delta_ids) < 0
        self.delta_ids, self.delta = self.delta_ids[keep], self.delta[keep]
        gone = np.setdiff1d(ids[positions(self.base_ids, ids) >= 0], self.removed)
        if len(gone):
            self.removed = np.union1d(self.removed, gone)
            if len(self.removed) > COMPACT_SHARE * len(self.base_ids):
                self._fold(compact=True)
            self._params_stale = True

    def save(self, directory: Path, tag: str) -> list[str]:
        """Write the base (only if it changed) and the delta + tombstones; return the names."""
        if not self._base_name:
            self._base_name = f"dense-{tag}.faiss"
            faiss.write_index(self.base, str(directory / self._base_name))
            np.save(directory / f"dense-{tag}-ids.npy", self.base_ids)
        delta_name = f"dense-{tag}-delta.npz"
        np.savez(
            directory / delta_name,
            ids=self.delta_ids,
            vectors=self.delta,
            removed=self.removed,
            kind=np.array(self.kind),
        )
        ids_name = self._base_name.removesuffix(".faiss") + "-ids.npy"
        return [self._base_name, ids_name, delta_name]

    @classmethod
    def load(cls, directory: Path, names: list[str], lazy: bool = False) -> FaissDenseStore:
        """Read a store written by :meth:`save`; ``lazy`` defers reading the base index."""
        base_name, ids_name, delta_name = names
        with np.load(directory / delta_name) as delta:
            delta_ids, vectors, removed = delta["ids"], delta["vectors"], delta["removed"]
            kind = str(delta["kind"])
        store = cls(
            directory / base_name,
            np.load(directory / ids_name),
            removed,
            delta_ids,
            vectors,
            base_name,
            kind,
        )
        if not lazy:
            store.base  # noqa: B018 - read now, so that a broken file fails the load
        return store

    def _fold(self, compact: bool = False) -> None:
        """Move the delta into the base; rebuild the base without tombstones if ``compact``."""
        live = positions(self.removed, self.base_ids) < 0
        if compact or (self.base.ntotal + len(self.delta_ids) > APPROXIMATE_ABOVE) != isinstance(
            self.base, faiss.IndexHNSW
        ):
            vectors = np.concatenate([stored_vectors(self.base)[live], self.delta])
            self.base_ids = np.concatenate([self.base_ids[live], self.delta_ids])
            self._base, self.removed = make_vector_index(vectors), np.zeros(0, ID_DTYPE)
        else:
            self.base.add(np.ascontiguousarray(self.delta))
            self.base_ids = np.concatenate([self.base_ids, self.delta_ids])
        self.delta_ids, self.delta = np.zeros(0, ID_DTYPE), np.zeros((0, self.dim), np.float32)
        self._base_name = ""
        self._params_stale = True

    def _search_params(self) -> Any:
        """Return FAISS search parameters that skip tombstoned rows (None when there are none)."""
        hnsw = isinstance(self.base, faiss.IndexHNSW)
        if not len(self.removed):
            return None
        params: Any = (
            faiss.SearchParametersHNSW()  # type: ignore[attr-defined]
            if hnsw
            else faiss.SearchParameters()
        )
        if hnsw:
            params.efSearch = HNSW_EF_SEARCH
        allowed = positions(self.removed, self.base_ids) < 0
        # The selector reads the bitmap in place: keep it alive as long as the parameters.
        self._bitmap = np.packbits(allowed, bitorder="little")
        self._selector = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(self._bitmap))
        params.sel = self._selector
        return params
