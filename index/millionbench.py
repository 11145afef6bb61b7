"""``bench --stages million``: BM25 at 1,000,000 paragraphs, tiled from real passages."""

from __future__ import annotations

import tempfile
from functools import partial
from pathlib import Path

import numpy as np

from index.bench import Figure, percentiles_ms, sample_queries, time_calls
from index.lexical import terms
from index.scalebench import copy_passages
from index.search import CANDIDATES
from index.stores.bm25 import Bm25Store
from index.stores.postings import Postings

DROP = 0.2  # share of each copy's postings dropped (copies after the first)


def bench_million(news: Path, base: int, copies: int, questions: int) -> list[Figure]:
    """Time BM25 search + score over ``base`` real passages repeated ``copies`` times.

    The lexical index is the part of a search that grows with the corpus (FAISS HNSW search
    stays ~2.6 ms at 1M, see ``--stages faiss``); this builds the postings of ``base``
    passages once and tiles them with shifted ids into a 1M-paragraph segment on disk,
    memory-mapped as in serving; each copy after the first drops ``DROP`` of its postings at
    random, so copies are near duplicates (ranked apart) rather than exact ties.
    """
    with tempfile.TemporaryDirectory(prefix="vnqa-million-") as tmp:
        texts = copy_passages(news, Path(tmp) / "corpus.jsonl", base)
        small = Postings.build(np.arange(len(texts)), (terms(t) for t in texts))
        tiled = _tile(small, copies)
        store = Bm25Store.load(Path(tmp), [*tiled.save(Path(tmp), "b"), *_empty(Path(tmp))])
        probes = sample_queries(texts, questions)

        def search(query: str) -> None:
            found = store.search(query, CANDIDATES)
            store.score(found.ids, query)

        search(probes[0])
        p50, p95 = percentiles_ms(time_calls([partial(search, q) for q in probes]))
        return [
            Figure("million: paragraphs", store.count, "paragraphs"),
            Figure("million: BM25 search + score p50", p50, "ms"),
            Figure("million: BM25 search + score p95", p95, "ms"),
        ]


def _tile(small: Postings, copies: int, drop: float = DROP, seed: int = 0) -> Postings:
    """Return ``small`` repeated ``copies`` times, copy ``c`` with ids shifted by c * n.

    Copies after the first lose each posting with probability ``drop``, so they are near
    duplicates, not exact ones: a top 100 of 50 tied copies of two paragraphs would let
    pruned search stop much earlier than on real news.
    """
    n, lengths = len(small.docs), np.diff(small.starts)
    term = np.repeat(np.arange(len(small.keys)), lengths)
    within = np.arange(len(small.ids)) - small.starts[term]
    ids = np.empty(len(small.ids) * copies, np.uint32)
    counts = np.empty(len(small.ids) * copies, np.uint16)
    keep = np.random.default_rng(seed).random(len(ids)) >= drop
    for c in range(copies):
        where = small.starts[term] * copies + c * lengths[term] + within
        ids[where] = small.ids + c * n
        counts[where] = small.counts
        if c == 0:
            keep[where] = True
    kept = np.bincount(np.repeat(np.arange(len(small.keys)), lengths * copies)[keep])
    kept = np.pad(kept, (0, len(small.keys) - len(kept)))
    docs = np.concatenate([small.docs + c * n for c in range(copies)])
    return Postings(
        small.keys,
        np.r_[0, np.cumsum(kept)].astype(np.int64),
        ids[keep],
        counts[keep],
        docs,
        np.tile(small.lengths, copies),
    )


def _empty(directory: Path) -> list[str]:
    """Write an empty delta segment and tombstone list; return their names."""
    names = Postings.build(np.zeros(0, np.int64), []).save(directory, "e")
    np.save(directory / "removed.npy", np.zeros(0, np.int64))
    return [*names, "removed.npy"]
