"""``bench --stages scale --store qdrant``: the same questions through FAISS and Qdrant (local).

Qdrant's local mode runs in this process and searches by brute force in Python: its latency
says nothing about a cluster (which serves from HNSW and an inverted sparse index over the
network). The figures show what the backend costs on one machine, the time to copy an index
into a collection, and whether the answers agree.
"""

from __future__ import annotations

import json
import tempfile
import time
from functools import partial
from pathlib import Path

from index.bench import Figure, percentiles_ms, sample_queries, time_calls
from index.cache import EmbeddingCache
from index.models import Chunk
from index.pipeline import build_index, load_index, mirror_index
from index.scalebench import copy_passages, make_embedder
from index.search import Searcher
from index.settings import StoreSettings

LOCAL = "qdrant local mode (in-process brute force; not a cluster figure)"


def bench_qdrant_local(
    news: Path, limit: int | None, questions: int, kind: str, cache_file: Path | None
) -> list[Figure]:
    """Build an index of ``news`` (first ``limit`` rows), copy it into Qdrant, time questions.

    Returns:
        Figures: paragraphs, copy time, p50/p95 per question through each store, and the share
        of questions whose ranked top 10 are the same paragraphs in the same order.
    """
    with tempfile.TemporaryDirectory(prefix="vnqa-qdrant-") as tmp:
        root = Path(tmp)
        (root / "data").mkdir()
        queries = sample_queries(
            copy_passages(news, root / "data" / "corpus.jsonl", limit), questions
        )
        embedder = make_embedder(kind)
        cache = EmbeddingCache(cache_file) if cache_file else None
        faiss, qdrant = StoreSettings(), StoreSettings(backend="qdrant", path=str(root / "q"))
        report = build_index(root / "data", root / "index", embedder, cache, store=faiss)
        started = time.perf_counter()
        mirror_index(root / "index", qdrant)
        copy_s = time.perf_counter() - started
        searchers = [load_index(root / "index", embedder, store=s) for s in (faiss, qdrant)]
        figures = [
            Figure("paragraphs", report.chunks, "paragraphs"),
            Figure(f"migrate into {LOCAL}", copy_s, "s"),
        ]
        for name, searcher in zip(("faiss", LOCAL), searchers, strict=True):
            searcher.search(queries[0])  # warm: caches, lazy loads
            p50, p95 = percentiles_ms(time_calls([partial(searcher.search, q) for q in queries]))
            figures += [
                Figure(f"{name} question p50", p50, "ms"),
                Figure(f"{name} p95", p95, "ms"),
            ]
        same = sum(
            [h.chunk for h in searchers[0].rank(q, 10)]
            == [h.chunk for h in searchers[1].rank(q, 10)]
            for q in queries
        )
        figures.append(
            Figure("questions with the same ranked top 10", 100 * same / len(queries), "%")
        )
    summary = json.dumps({f.name: round(f.value, 2) for f in figures}, ensure_ascii=False)
    return [*figures, Figure(f"scale --store qdrant: {summary}", float("nan"), "")]


def _top(searcher: Searcher, question: str) -> list[Chunk]:
    return [hit.chunk for hit in searcher.rank(question, 10)]
