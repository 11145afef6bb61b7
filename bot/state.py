"""What the handlers share: one typed ``BotData`` (PTB ``ContextTypes(bot_data=BotData)``).

``searcher`` is replaced whole by ``/reindex``; handlers read it once per update, so a search
in flight finishes on the index it started with.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from typing import Any

from telegram.ext import CallbackContext, ExtBot

from bot.access import QuestionRateLimit
from bot.config import Settings
from bot.paging import PageStore
from index import AnswerLog, Asking, Embedder, Searcher

PROGRESS_INTERVAL_S = 2.0
FETCH_DELAY_S = 1.0  # between two requests to one host when fetching articles
MAX_REMEMBERED_QUESTIONS = 2000


class RecentQuestions:
    """The question last answered for each recent message, so an edit is answered only if
    it changes the question (Telegram also sends edits that keep the text)."""

    def __init__(self, max_messages: int = MAX_REMEMBERED_QUESTIONS) -> None:
        """Remember the last ``max_messages`` messages."""
        self.max_messages = max_messages
        self._asked: OrderedDict[tuple[int, int], str] = OrderedDict()

    def changed(self, chat_id: int, message_id: int, question: str) -> bool:
        """Record ``question`` for a message; False if that message already asked it."""
        key = (chat_id, message_id)
        if self._asked.get(key) == question:
            return False
        self._asked[key] = question
        self._asked.move_to_end(key)
        while len(self._asked) > self.max_messages:
            self._asked.popitem(last=False)
        return True


class BotData:
    """Settings, the serving Searcher, the answer log, and the bot's long-lived state.

    PTB creates it without arguments; :meth:`install` fills it before the bot starts.
    """

    settings: Settings
    searcher: Searcher
    embedder: Embedder
    log: AnswerLog
    asking: Asking

    def __init__(self) -> None:
        """Empty state; see :meth:`install`."""
        self.pages = PageStore()
        self.rate_limit = QuestionRateLimit(0)
        self.reindex_lock = asyncio.Lock()
        self.progress_interval_s = PROGRESS_INTERVAL_S
        self.questions = 0
        self.recent = RecentQuestions()
        self.migrated: dict[int, int] = {}  # new chat id -> old chat id
        self.fetch_delay_s = FETCH_DELAY_S
        self.fetch_lock = asyncio.Lock()  # one fetch into DATA_DIR at a time
        # Set when the bot stops; long work (a /reindex build thread) checks it and gives up.
        self.stopping = threading.Event()

    def install(self, settings: Settings, searcher: Searcher, log: AnswerLog) -> None:
        """Serve ``searcher`` with ``settings``, logging answers to ``log``."""
        self.settings, self.searcher, self.embedder = settings, searcher, searcher.embedder
        self.log = log
        self.asking = Asking(log, settings.top_k, settings.max_question_chars)
        self.rate_limit = QuestionRateLimit(settings.rate_limit_per_minute)
        self.migrated = log.migrated_chats()


Context = CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]
