"""Benchmarks: indexing throughput, query latency, RSS, index size, and FAISS alone."""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from index.embedding import Embedder, SentenceTransformerEmbedder
from index.evaluation import index_corpus_file
from index.memory import rss_mb
from index.stores.dense import make_vector_index

QUERY_WORDS = 12


@dataclass(frozen=True)
class Figure:
    """One measured figure: what, value, unit."""

    name: str
    value: float
    unit: str

    def line(self) -> str:
        """Return ``name: value unit`` (just ``name`` for a summary line without a unit)."""
        if not self.unit:
            return self.name
        return (
            f"{self.name}: {self.value:.1f} {self.unit}"
            if self.value >= 10
            else f"{self.name}: {self.value:.2f} {self.unit}"
        )


def percentiles_ms(samples: list[float]) -> tuple[float, float]:
    """Return (p50, p95) in milliseconds of durations given in seconds."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def time_calls(calls: Sequence[Callable[[], object]]) -> list[float]:
    """Run each call once and return the durations in seconds."""
    durations = []
    for call in calls:
        started = time.perf_counter()
        call()
        durations.append(time.perf_counter() - started)
    return durations


def dir_size_mb(directory: Path) -> float:
    """Return the total size of the files under ``directory`` in MiB."""
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file()) / 2**20


def read_passages(corpus: Path) -> list[str]:
    """Return the texts of a corpus.jsonl."""
    return [
        json.loads(line)["text"]
        for line in corpus.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def sample_queries(passages: list[str], count: int) -> list[str]:
    """Make question-like queries: the first words of evenly spread passages."""
    step = max(1, len(passages) // count)
    return [" ".join(p.split()[:QUERY_WORDS]) for p in passages[::step][:count]]


def bench_encoding(embedder: SentenceTransformerEmbedder, passages: list[str]) -> list[Figure]:
    """Compare plain ``SentenceTransformer.encode`` with the embedder's batching, passages/s."""
    from sentence_transformers import SentenceTransformer

    inputs = [embedder.passage_prompt + p for p in passages]
    baseline = SentenceTransformer(embedder.path, device="cpu")
    started = time.perf_counter()
    baseline.encode(inputs)
    plain = len(inputs) / (time.perf_counter() - started)
    del baseline
    started = time.perf_counter()
    embedder.embed_chunks(passages)
    ours = len(inputs) / (time.perf_counter() - started)
    return [
        Figure("encode, plain SentenceTransformer.encode", plain, "passages/s"),
        Figure("encode, embed_chunks (precision + token-budget batches)", ours, "passages/s"),
        Figure("encode speed-up", ours / plain, "x"),
    ]


def bench_pipeline(corpus: Path, embedder: Embedder, queries: int) -> list[Figure]:
    """Build an index of the corpus (no cache) and time questions end to end."""
    passages = read_passages(corpus)
    with tempfile.TemporaryDirectory(prefix="vnqa-bench-") as tmp:
        report, searcher = index_corpus_file(corpus, Path(tmp), embedder)
        questions = sample_queries(passages, queries)
        searcher.search(questions[0])
        p50, p95 = percentiles_ms(time_calls([partial(searcher.search, q) for q in questions]))
        current, peak = rss_mb()
        return [
            Figure("index build (chunks)", report.chunks, "chunks"),
            Figure("index build, end to end", report.chunks / report.seconds, "chunks/s"),
            Figure("query latency p50 (question -> hits)", p50, "ms"),
            Figure("query latency p95 (question -> hits)", p95, "ms"),
            Figure("RSS after loading and querying", current, "MiB"),
            Figure("peak RSS", peak, "MiB"),
            Figure("index size on disk", dir_size_mb(Path(tmp) / "index"), "MiB"),
        ]


def bench_faiss(count: int, dim: int, queries: int = 200, top_k: int = 100) -> list[Figure]:
    """Time FAISS search alone over ``count`` random unit vectors, exact and HNSW."""
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((count, dim), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    probes = vectors[rng.choice(count, queries, replace=False)] + 0.05 * rng.standard_normal(
        (queries, dim), dtype=np.float32
    )
    figures = []
    for kind, approximate in (("exact", False), ("hnsw", True)):
        started = time.perf_counter()
        index = make_vector_index(vectors, approximate=approximate)
        built = time.perf_counter() - started
        calls = [partial(index.search, q[None, :], top_k) for q in probes]
        p50, p95 = percentiles_ms(time_calls(calls))
        figures += [
            Figure(f"faiss {kind} {count:,} build", built, "s"),
            Figure(f"faiss {kind} {count:,} search p50", p50, "ms"),
            Figure(f"faiss {kind} {count:,} search p95", p95, "ms"),
        ]
    return figures
