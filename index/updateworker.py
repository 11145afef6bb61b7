"""Apply an update in a child process, so the serving process keeps its cores and its lock.

An update of 3,000 paragraphs at 100k spends ~2 s of pure Python (tokenising, postings, the
sources file) and a few long C calls that hold the interpreter lock. Run in a thread of the
serving process, it made questions wait for the lock: p95 291 ms while it ran (README, scale
bench). :func:`update_index` runs :func:`~index.pipeline.build_index` in a spawned child
instead, at a lower CPU priority (``UPDATE_NICE``), and forwards its progress. The child
commits the new generation exactly as a thread would (one manifest rename), so a child that is
killed or fails leaves the previous index serving, and the next update completes the work.

An embedder takes part when it can hand the child a picklable passage embedder
(``passage_embedder()``); otherwise the update runs in the calling thread as before.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import signal
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from index.cache import EmbeddingCache
from index.embedding import Embedder
from index.errors import RetrievalError
from index.ingest import MAX_ARTICLE_BYTES
from index.memory import peak_mb
from index.paragraphing import BuildProgress
from index.pipeline import BuildReport, build_index
from index.settings import StoreSettings

logger = logging.getLogger(__name__)

UPDATE_NICE = 10  # the child's niceness: questions (nice 0) get ~9x its CPU share when both wait
HEARTBEAT_S = 0.5  # while the child is silent, progress is repeated this often (to interrupt)
PROGRESS_EVERY_S = 0.05  # the child reports progress at most this often within a stage


@dataclass(frozen=True)
class UpdateJob:
    """Everything ``build_index`` needs (all picklable when it goes to a child)."""

    data_dir: Path
    index_dir: Path
    embedder: Embedder
    cache_file: Path | None
    max_article_bytes: int
    store: StoreSettings | None


@dataclass(frozen=True)
class ChildUpdate:
    """What the child did: the build report and its own peak resident memory (MiB)."""

    report: BuildReport
    peak_mb: float


def passage_embedder(embedder: Embedder) -> Embedder | None:
    """Return the picklable embedder a child would use for ``embedder``'s passages, or None."""
    hand_over = getattr(embedder, "passage_embedder", None)
    return hand_over() if callable(hand_over) else None


def update_index(
    data_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    cache_file: Path | None = None,
    progress: BuildProgress | None = None,
    max_article_bytes: int = MAX_ARTICLE_BYTES,
    store: StoreSettings | None = None,
) -> BuildReport:
    """Bring ``index_dir`` up to date with ``data_dir`` in a child process when possible.

    Same contract as :func:`~index.pipeline.build_index` (difference only, atomic commit),
    but the work runs in a child process at niceness ``UPDATE_NICE`` when ``embedder`` offers
    ``passage_embedder()``; otherwise in this thread.

    Args:
        data_dir, index_dir, max_article_bytes, store: as for ``build_index``.
        embedder: the serving embedder (its passages are embedded in the child).
        cache_file: the SQLite embedding cache (None: no cache).
        progress: called here with (stage, done, total) as the child reports, and repeated
            every ``HEARTBEAT_S`` while it is silent (stage "start" before its first report);
            an exception it raises stops the child (killed; the previous index stays) and
            propagates.

    Returns:
        What the build did.

    Raises:
        RetrievalError: as ``build_index`` (no readable article, ...), raised by the child.
        OSError: ``index_dir`` cannot be written.
        RuntimeError: the child died (killed, out of memory); the previous index is intact.
    """
    passages = passage_embedder(embedder)
    job = UpdateJob(
        data_dir, index_dir, passages or embedder, cache_file, max_article_bytes, store
    )
    if passages is None:
        return _build(job, progress)
    return run_update_child(job, progress).report


def run_update_child(job: UpdateJob, progress: BuildProgress | None = None) -> ChildUpdate:
    """Run ``job`` in a spawned child process; see :func:`update_index`.

    Raises:
        As :func:`update_index`.
    """
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe(duplex=False)
    child = context.Process(target=_child_main, args=(theirs, job), daemon=True)
    child.start()
    theirs.close()
    logger.info("update running in child process %d (nice %d)", child.pid, UPDATE_NICE)
    last = ("start", 0, 0)  # repeated until the child reports: it can be stopped meanwhile
    try:
        while True:
            if not ours.poll(HEARTBEAT_S):
                if progress:
                    progress(*last)
                continue
            try:
                kind, *body = ours.recv()
            except EOFError:  # the child is gone without a word: killed, out of memory
                child.join()
                raise RuntimeError(
                    f"the update process died (exit code {child.exitcode}); "
                    "the previous index is kept"
                ) from None
            if kind == "progress":
                last = (body[0], body[1], body[2])
                if progress:
                    progress(*last)
            elif kind == "done":
                return ChildUpdate(body[0], body[1])
            else:
                raise body[0]
    finally:
        ours.close()
        if child.is_alive():
            child.terminate()
        child.join()


def _child_main(theirs: Connection, job: UpdateJob) -> None:
    """Child process: lower the priority, run the build, send progress and the outcome."""
    os.nice(UPDATE_NICE)
    # Ctrl-C reaches the whole process group: the parent decides, and stops us if it must.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sent: dict[str, Any] = {"at": 0.0, "stage": ""}

    def report(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage != sent["stage"] or done >= total or now - sent["at"] >= PROGRESS_EVERY_S:
            sent.update(at=now, stage=stage)
            theirs.send(("progress", stage, done, total))

    try:
        theirs.send(("done", _build(job, report), peak_mb()))
    except Exception as exc:  # sent to the parent, which raises it
        theirs.send(("error", _picklable(exc)))
    finally:
        theirs.close()


def _build(job: UpdateJob, progress: BuildProgress | None) -> BuildReport:
    """Run ``build_index`` for ``job`` in this process, with its embedding cache open."""
    cache = EmbeddingCache(job.cache_file) if job.cache_file else None
    try:
        return build_index(
            job.data_dir,
            job.index_dir,
            job.embedder,
            cache,
            progress,
            max_article_bytes=job.max_article_bytes,
            store=job.store,
        )
    finally:
        if cache:
            cache.close()


def _picklable(exc: Exception) -> Exception:
    """Return ``exc`` if it survives pickling, else an exception of a base type with its text."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        if isinstance(exc, OSError):
            return OSError(exc.errno, str(exc))
        return (
            RetrievalError(str(exc)) if isinstance(exc, RetrievalError) else RuntimeError(str(exc))
        )
