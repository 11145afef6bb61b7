"""Fetch into DATA_DIR and update the index: for /add, /sync, files, posts and the SYNC_EVERY job.

Fetching and building run in a worker thread under the same lock as /reindex, so one update
runs at a time while questions keep being answered from the old searcher until the swap.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from bot.reindexing import build_and_load, swap_searcher
from bot.state import BotData, Context
from index import (
    BuildReport,
    Fetcher,
    FetchReport,
    RetrievalError,
    fetch_urls,
)

logger = logging.getLogger(__name__)

SYNC_JOB = "sync"


async def fetch_into_archive(data: BotData, urls: Sequence[str]) -> FetchReport:
    """Fetch ``urls`` into DATA_DIR (in a thread) and update the index when anything changed."""
    web = data.settings.web

    def fetch() -> FetchReport:
        with Fetcher(web.allow_private_urls, data.fetch_delay_s) as fetcher:
            return fetch_urls(urls, data.settings.data_dir, fetcher)

    async with data.fetch_lock:  # one writer of data/web/fetch-state.json at a time
        report = await asyncio.to_thread(fetch)
    if report.new or report.changed:
        await update_index(data)
    return report


async def update_index(data: BotData) -> BuildReport:
    """Rebuild the index from DATA_DIR and swap the searcher in (one update at a time).

    Raises:
        RetrievalError: the build failed; the old searcher keeps serving.
    """
    async with data.reindex_lock:
        report, searcher = await asyncio.to_thread(build_and_load, data, data.searcher)
        swap_searcher(data, searcher)
    logger.info(
        "index updated: %d articles, %d chunks (+%d ~%d -%d) in %.1f s",
        report.articles,
        report.chunks,
        report.added,
        report.changed,
        report.removed,
        report.seconds,
    )
    return report


async def scheduled_sync(context: Context) -> None:
    """The SYNC_EVERY job: fetch FEEDS and SITEMAPS, update the index, log the counts."""
    sources = context.bot_data.settings.web.sources
    try:
        report = await fetch_into_archive(context.bot_data, sources)
    except RetrievalError as exc:
        logger.warning("scheduled sync failed, the old index keeps serving: %s", exc)
        return
    logger.info("scheduled sync of %d sources: %s", len(sources), report.line())
    for failure in report.failures:
        logger.info("scheduled sync: %s: %s", failure.url, failure.reason)
