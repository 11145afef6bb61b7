"""What the handlers share, kept in ``bot_data``: the Searcher and one typed ``Services``.

``bot_data["searcher"]`` is replaced whole by ``/reindex``; handlers read it once per update,
so a search in flight finishes on the index it started with.
"""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

from bot.access import QuestionRateLimit
from bot.config import Settings
from bot.paging import PageStore
from index import Embedder, Searcher

SEARCHER_KEY = "searcher"
SERVICES_KEY = "services"
PROGRESS_INTERVAL_S = 2.0
FETCH_DELAY_S = 1.0  # between two requests to one host when fetching articles


@dataclass
class Services:
    """Settings plus the long-lived state of a running bot."""

    settings: Settings
    embedder: Embedder
    pages: PageStore = field(default_factory=PageStore)
    rate_limit: QuestionRateLimit = field(default_factory=lambda: QuestionRateLimit(0))
    reindex_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    progress_interval_s: float = PROGRESS_INTERVAL_S
    fetch_delay_s: float = FETCH_DELAY_S
    fetch_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    questions: int = 0


def install(bot_data: MutableMapping[Any, Any], settings: Settings, searcher: Searcher) -> None:
    """Put ``searcher`` and fresh ``Services`` into ``bot_data``."""
    bot_data[SEARCHER_KEY] = searcher
    bot_data[SERVICES_KEY] = Services(
        settings=settings,
        embedder=searcher.embedder,
        rate_limit=QuestionRateLimit(settings.rate_limit_per_minute),
    )


def services_of(bot_data: MutableMapping[Any, Any]) -> Services:
    """Return the ``Services`` stored by :func:`install`."""
    services: Services = bot_data[SERVICES_KEY]
    return services


def searcher_of(bot_data: MutableMapping[Any, Any]) -> Searcher:
    """Return the Searcher serving now."""
    searcher: Searcher = bot_data[SEARCHER_KEY]
    return searcher
