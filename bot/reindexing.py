"""/reindex and REINDEX_EVERY: apply data/'s changes to the index in a child, swap the searcher.

``update_index`` applies only the difference (added, changed, removed articles) and commits it
with one rename, so the old searcher keeps answering until ``BotData.searcher`` is replaced, and
a failed or interrupted update leaves it serving. The scheduled run (PTB's JobQueue) and
/reindex share ``BotData.reindex_lock``: they never overlap, and a scheduled turn that finds it
taken is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from pathlib import Path
from typing import Any

from telegram import Message
from telegram.error import TelegramError
from telegram.ext import Application

from bot import messages
from bot.command_texts import (
    format_failure,
    format_progress,
    format_report,
    format_storage_failure,
)
from bot.formatting import escape
from bot.state import BotData, Context
from index import (
    BuildProgress,
    BuildReport,
    RetrievalError,
    Searcher,
    load_index,
    update_index,
)

logger = logging.getLogger(__name__)


class BuildInterrupted(Exception):
    """Raised in the build thread when the bot is stopping (nothing was swapped in)."""


class _ProgressMessage:
    """One message edited in place; the build thread only sets ``latest``."""

    def __init__(self, message: Message, text: str, stopping: threading.Event) -> None:
        """Follow ``message``, which says ``text`` now; stop the build once ``stopping``."""
        self.message = message
        self.shown = self.latest = text
        self.stopping = stopping

    def update(self, stage: str, done: int, total: int) -> None:
        """Record build progress (called from the build thread); raise if the bot stops.

        Raises:
            BuildInterrupted: the bot is stopping and the new index is not written yet.
        """
        if self.stopping.is_set() and stage != "write":
            raise BuildInterrupted
        self.latest = escape(format_progress(stage, done, total))

    async def show(self, text: str) -> None:
        """Edit the message to ``text`` unless it already says that ("not modified")."""
        if text == self.shown:
            return
        try:
            await self.message.edit_text(text)
            self.shown = text
        except TelegramError as exc:
            logger.warning("cannot edit the reindex progress message: %s", exc)

    async def follow(self, finished: asyncio.Event, interval_s: float) -> None:
        """Show the latest progress at most every ``interval_s`` until ``finished`` is set."""
        while not finished.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(finished.wait(), interval_s)
            if not finished.is_set():
                await self.show(self.latest)


async def reindex(message: Message, data: BotData) -> None:
    """Rebuild from DATA_DIR off the event loop, reporting in one edited reply to ``message``.

    The caller checks ``reindex_lock`` first; taking it here happens before any await, so
    two concurrent /reindex cannot both start.
    """
    async with data.reindex_lock:
        started = escape(messages.REINDEX_STARTED)
        sent = await message.reply_text(started)
        progress = _ProgressMessage(sent, started, data.stopping)
        finished = asyncio.Event()
        follower = asyncio.create_task(progress.follow(finished, data.progress_interval_s))
        text = escape(messages.REINDEX_INTERRUPTED)  # if cancelled at shutdown before the end
        try:
            text = await _rebuild(data, progress.update)
        finally:
            finished.set()
            await follower
            await progress.show(text)


async def scheduled_reindex(context: Context) -> None:
    """Apply data/'s changes (a REINDEX_EVERY job); skip this turn if /reindex is running."""
    data = context.bot_data
    if data.reindex_lock.locked():
        logger.info("scheduled reindex skipped: a reindex is already running")
        return

    def progress(stage: str, done: int, total: int) -> None:
        if data.stopping.is_set() and stage != "write":
            raise BuildInterrupted

    async with data.reindex_lock:
        await _rebuild(data, progress)


def schedule_reindex(application: Application[Any, Any, Any, Any, BotData, Any]) -> None:
    """Run :func:`scheduled_reindex` every REINDEX_EVERY minutes (nothing when it is 0)."""
    minutes = application.bot_data.settings.reindex_every_min
    if not minutes:
        return
    if application.job_queue is None:
        logger.warning("REINDEX_EVERY is set but PTB's job queue is missing: pip install -e .")
        return
    application.job_queue.run_repeating(
        scheduled_reindex, interval=minutes * 60, first=minutes * 60, name="reindex"
    )
    logger.info(
        "applying changes in %s every %d minutes", application.bot_data.settings.data_dir, minutes
    )


async def _rebuild(data: BotData, progress: BuildProgress) -> str:
    """Apply the changes and load the new index; swap it in on success. Return the report."""
    current = data.searcher
    try:
        report, searcher = await asyncio.to_thread(build_and_load, data, current, progress)
    except Exception as exc:
        return _failure_text(exc, data.settings.index_dir)
    swap_searcher(data, searcher)
    logger.info(
        "reindexed: %d articles, %d chunks (+%d ~%d -%d), %d skipped, %.1f s",
        report.articles,
        report.chunks,
        report.added,
        report.changed,
        report.removed,
        len(report.problems),
        report.seconds,
    )
    return format_report(report)


def _failure_text(exc: Exception, index_dir: Path) -> str:
    """Log why a build failed and return the text to show; the old index keeps serving."""
    if isinstance(exc, BuildInterrupted):
        logger.warning("reindex interrupted by the shutdown; the old index is kept")
        return escape(messages.REINDEX_INTERRUPTED)
    if isinstance(exc, RetrievalError):
        logger.warning("reindex failed, the old index keeps serving: %s", exc)
        return format_failure(str(exc))
    if isinstance(exc, OSError) and exc.errno is not None:  # read-only, disk full, ...
        logger.warning("reindex failed, the old index keeps serving: %s", exc)
        return format_storage_failure(exc, index_dir)
    logger.error("reindex failed, the old index keeps serving", exc_info=exc)
    return format_failure(None)


def swap_searcher(data: BotData, searcher: Searcher) -> None:
    """Serve ``searcher`` from now on, unless it is the one serving (nothing changed)."""
    if searcher is not data.searcher:
        data.searcher = searcher
        data.pages.clear()  # buttons of older answers ask their question again


def build_and_load(
    data: BotData, current: Searcher, progress: BuildProgress | None = None
) -> tuple[BuildReport, Searcher]:
    """Update INDEX_DIR (in a child process), then load it unless nothing changed.

    Runs in a worker thread; the update itself runs in a niced child process when the
    embedder allows it (``update_index``), so questions keep the interpreter lock meanwhile.
    """
    settings = data.settings
    report = update_index(
        settings.data_dir,
        settings.index_dir,
        data.embedder,
        settings.embedding_cache,
        progress,
        max_article_bytes=settings.max_article_bytes,
    )
    if report.manifest == current.manifest:
        return report, current
    return report, load_index(settings.index_dir, data.embedder, current.settings)
