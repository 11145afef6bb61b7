"""How updates are processed: through the durable inbox, and stopped within seconds.

:class:`InboxProcessor` (PTB's update processor) claims each update in the :class:`Inbox`
before handling it and marks it done afterwards, so a crash leaves it to be handled after the
restart (:func:`replay_unfinished`). :class:`GracefulApplication` stops promptly: it sets
``Services.stopping`` (a running ``/reindex`` sees it and stops), waits ``STOP_GRACE_S`` for
running updates, then cancels the rest; cancelled updates stay unfinished in the inbox.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import Application, SimpleUpdateProcessor

from bot.inbox import Inbox
from bot.state import BotData

logger = logging.getLogger(__name__)

MAX_CONCURRENT_UPDATES = 256  # PTB's value for concurrent_updates(True)
# Running updates get this long to finish at shutdown; with the poll's own stop and the
# final getUpdates, the process exits within 5 s of SIGTERM.
STOP_GRACE_S = 3.0


class InboxProcessor(SimpleUpdateProcessor):
    """Processes updates concurrently, each claimed in the inbox first and finished after."""

    def __init__(self, inbox: Inbox, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        """Record updates in ``inbox``; handle up to ``max_concurrent_updates`` at once."""
        super().__init__(max_concurrent_updates)
        self.inbox = inbox
        self._running: set[asyncio.Task[Any]] = set()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Handle ``update`` unless the inbox says it was handled (or is being handled)."""
        if not isinstance(update, Update):
            await coroutine
            return
        if not self.inbox.claim(update.update_id, update.to_json()):
            if inspect.iscoroutine(coroutine):
                coroutine.close()
            return
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            await coroutine
        except asyncio.CancelledError:
            self.inbox.release(update.update_id)
            raise
        else:
            self.inbox.finish(update.update_id)
        finally:
            self._running.discard(task)

    def cancel_running(self) -> int:
        """Cancel every update being handled; return how many there were."""
        for task in self._running:
            task.cancel()
        return len(self._running)

    async def shutdown(self) -> None:
        """Close the inbox."""
        self.inbox.close()


class GracefulApplication(Application):
    """PTB's Application whose ``stop()`` interrupts long work instead of waiting for it."""

    async def stop(self) -> None:
        """Signal ``stopping``, give running updates ``STOP_GRACE_S``, cancel the rest, stop."""
        if isinstance(self.bot_data, BotData):
            self.bot_data.stopping.set()
        stopping = asyncio.ensure_future(super().stop())
        done, _ = await asyncio.wait({stopping}, timeout=STOP_GRACE_S)
        processor = self.update_processor
        if not done and isinstance(processor, InboxProcessor):
            count = processor.cancel_running()
            logger.warning(
                "stopping: %d updates still running were cancelled; "
                "they are handled again after the restart",
                count,
            )
        await stopping


async def replay_unfinished(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Queue the inbox's unfinished updates (received before a crash) for handling."""
    processor = application.update_processor
    if not isinstance(processor, InboxProcessor):
        return
    if not isinstance(application.bot_data, BotData):
        return
    max_age_s = application.bot_data.settings.inbox_max_age_min * 60.0
    payloads = processor.inbox.unfinished(max_age_s)
    for payload in payloads:
        try:
            update = Update.de_json(json.loads(payload), application.bot)
        except Exception as exc:  # a row this version cannot read: skip it, once
            logger.warning("unfinished update not readable, skipped: %r", exc)
            continue
        await application.update_queue.put(update)
    if payloads:
        logger.info("handling %d updates received before the restart", len(payloads))
