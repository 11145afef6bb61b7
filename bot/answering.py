"""Answer a question in a chat: rate limit, "typing…" while asking off the loop, quotes, buttons.

The asking itself (clean, search, decide, log) is ``index.Asking``; this module renders its
``Answer`` as Telegram messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from telegram import Message
from telegram.constants import ChatAction
from telegram.error import TelegramError

from bot import messages
from bot.access import Verdict
from bot.formatting import escape, format_answer, format_not_found, truncation_note
from bot.paging import Pages, keyboard
from bot.state import BotData
from index import Answer, Origin, SearchUnavailableError, clean_question

logger = logging.getLogger(__name__)

TYPING_EVERY_S = 4.0  # Telegram shows a chat action for at most 5 s


async def answer(message: Message, text: str, data: BotData) -> None:
    """Answer ``text`` asked in ``message`` with quoted passages, or "không tìm thấy"."""
    if not await _within_rate_limit(message, data):
        return
    if not clean_question(text, data.settings.max_question_chars).text:
        await reply(message, messages.EMPTY_QUERY.format(example=messages.EXAMPLE_QUESTIONS[0]))
        return
    origin = Origin("chat", message.chat.type, message.chat_id, _user_id(message))
    try:
        async with typing(message):
            result = await asyncio.to_thread(data.asking.ask, data.searcher, text, origin)
    except SearchUnavailableError:  # logged once per outage by the store; retrying may work
        await reply(message, messages.SEARCH_UNAVAILABLE)
        return
    data.questions += 1
    note = truncation_note(result.question.truncated, data.settings.max_question_chars)
    if not result.found or result.answer_id is None:
        await reply(message, format_not_found(note))
        return
    pages = pages_of(result, data)
    await send_page(message, data, result.answer_id, pages, 0, note=note)


def pages_of(result: Answer, data: BotData) -> Pages:
    """Store the hits of ``result`` for its buttons and return them."""
    pages = Pages(result.hits, data.settings.top_k)
    if result.answer_id is not None:
        data.pages.add(result.answer_id, pages)
    return pages


async def send_page(
    target: Message,
    data: BotData,
    answer_id: int,
    pages: Pages,
    page: int,
    *,
    quote: bool | None = None,
    note: str = "",
) -> None:
    """Reply to ``target`` with page ``page`` of ``pages``; the buttons go on the last part.

    ``quote=None`` quotes ``target`` outside private chats (PTB's default), False never does.
    The vote buttons go under the first page only: votes rate the answer as a whole.
    """
    hits = pages.page(page)
    parts = format_answer(hits, page * pages.page_size + 1, note)
    continued = [data.searcher.neighbour(hit.chunk, 1) is not None for hit in hits]
    votes = data.settings.feedback_buttons and page == 0
    markup = keyboard(answer_id, pages, page, continued, votes)
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        await target.reply_text(part, reply_markup=markup if last else None, do_quote=quote)


async def reply(message: Message, text: str) -> None:
    """Reply with plain ``text`` (escaped for HTML)."""
    await message.reply_text(escape(text))


@contextlib.asynccontextmanager
async def typing(message: Message, every_s: float = TYPING_EVERY_S) -> AsyncIterator[None]:
    """Show "typing…" in the chat of ``message`` until the block ends, renewed periodically."""
    await _send_typing(message)
    renewer = asyncio.create_task(_keep_typing(message, every_s))
    try:
        yield
    finally:
        renewer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewer


async def _keep_typing(message: Message, every_s: float) -> None:
    while True:
        await asyncio.sleep(every_s)
        await _send_typing(message)


async def _send_typing(message: Message) -> None:
    try:
        await message.reply_chat_action(ChatAction.TYPING)
    except TelegramError as exc:  # cosmetic: never let it block the answer
        logger.debug("typing action failed in chat %s: %s", message.chat_id, exc)


def _user_id(message: Message) -> int | None:
    return message.from_user.id if message.from_user else None


async def _within_rate_limit(message: Message, data: BotData) -> bool:
    user = message.from_user
    verdict = data.rate_limit.check(user.id) if user else Verdict.ALLOW
    if verdict is not Verdict.ALLOW:
        logger.info(
            "rate limit: user %s in chat %s (%s)", user and user.id, message.chat_id, verdict
        )
    if verdict is Verdict.WARN:
        limit = data.settings.rate_limit_per_minute
        await reply(message, messages.RATE_LIMITED.format(limit=limit))
    return verdict is Verdict.ALLOW
