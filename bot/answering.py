"""Answer a question: rate limit, "typing…" while searching off the loop, quotes with buttons."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, MutableMapping
from typing import Any

from telegram import CallbackQuery, Message
from telegram.constants import ChatAction
from telegram.error import TelegramError

from bot import messages
from bot.access import Verdict
from bot.addressing import clean_question
from bot.formatting import escape, format_answer, format_not_found, truncation_note
from bot.paging import MORE, ButtonData, Pages, PageStore
from bot.services import Services, searcher_of, services_of
from index import Hit, Searcher

logger = logging.getLogger(__name__)

MAX_PAGES = 5  # "Xem thêm" can show up to MAX_PAGES * TOP_K hits
TYPING_EVERY_S = 4.0  # Telegram shows a chat action for at most 5 s


async def answer(message: Message, text: str, bot_data: MutableMapping[Any, Any]) -> None:
    """Answer ``text`` asked in ``message`` with quoted passages, or "không tìm thấy"."""
    services, searcher = services_of(bot_data), searcher_of(bot_data)
    if not await _within_rate_limit(message, services):
        return
    question = clean_question(text, services.settings.max_question_chars)
    if not question.text:
        await reply(message, messages.EMPTY_QUERY.format(example=messages.EXAMPLE_QUESTIONS[0]))
        return
    limit = services.settings.top_k * MAX_PAGES
    hits = await _search(message, searcher, question.text, limit)
    services.questions += 1
    note = truncation_note(question.truncated, services.settings.max_question_chars)
    if not hits:
        await reply(message, format_not_found(note))
        return
    pages = Pages(tuple(hits), services.settings.top_k)
    key = services.pages.add(pages)
    await send_page(message, searcher, services.pages, key, pages, 0, note=note)


async def follow_button(query: CallbackQuery, bot_data: MutableMapping[Any, Any]) -> str | None:
    """Send what a pressed button asks for; return the text to answer the query with, if any."""
    services, searcher = services_of(bot_data), searcher_of(bot_data)
    button = ButtonData.parse(query.data)
    pages = services.pages.find(button) if button else None
    target = query.message
    if (
        button is None
        or pages is None
        or not pages.holds(button)
        or not isinstance(target, Message)
    ):
        return messages.STALE_BUTTON
    if not pages.press(button):
        return messages.ALREADY_SHOWN
    if button.action == MORE:
        await send_page(
            target, searcher, services.pages, button.key, pages, button.number, quote=False
        )
        return None
    return await _send_following(target, searcher, services.pages, pages.hits[button.number])


async def send_page(
    target: Message,
    searcher: Searcher,
    store: PageStore,
    key: str,
    pages: Pages,
    page: int,
    *,
    quote: bool | None = None,
    note: str = "",
    numbered: bool = True,
) -> None:
    """Reply to ``target`` with page ``page`` of ``pages``; the buttons go on the last part.

    ``quote=None`` quotes ``target`` outside private chats (PTB's default), False never does.
    """
    hits = pages.page(page)
    first_number = page * pages.page_size + 1 if numbered else None
    parts = format_answer(hits, first_number, note)
    continued = [searcher.neighbour(hit.chunk, 1) is not None for hit in hits]
    markup = store.keyboard(key, pages, page, continued)
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


async def _send_following(
    target: Message, searcher: Searcher, store: PageStore, hit: Hit
) -> str | None:
    """Quote the paragraph after ``hit`` (with its own "next" button); else say there is none."""
    following = searcher.neighbour(hit.chunk, 1)
    if following is None:
        return messages.NO_NEXT_PARAGRAPH
    shown = Pages((Hit(chunk=following, score=hit.score),), page_size=1)
    key = store.add(shown)
    await send_page(target, searcher, store, key, shown, 0, quote=False, numbered=False)
    return None


async def _keep_typing(message: Message, every_s: float) -> None:
    while True:
        await asyncio.sleep(every_s)
        await _send_typing(message)


async def _send_typing(message: Message) -> None:
    try:
        await message.reply_chat_action(ChatAction.TYPING)
    except TelegramError as exc:  # cosmetic: never let it block the answer
        logger.debug("typing action failed in chat %s: %s", message.chat_id, exc)


async def _search(message: Message, searcher: Searcher, question: str, limit: int) -> list[Hit]:
    started = time.perf_counter()
    async with typing(message):
        hits = await asyncio.to_thread(searcher.search, question, limit)
    logger.info(
        "question in %s chat: %d chars, %d hits, best score %.3f, %.0f ms",
        message.chat.type,
        len(question),
        len(hits),
        hits[0].score if hits else 0.0,
        (time.perf_counter() - started) * 1000,
    )
    logger.debug("question text: %r", question)
    return hits


async def _within_rate_limit(message: Message, services: Services) -> bool:
    user = message.from_user
    verdict = services.rate_limit.check(user.id) if user else Verdict.ALLOW
    if verdict is not Verdict.ALLOW:
        logger.info(
            "rate limit: user %s in chat %s (%s)", user and user.id, message.chat_id, verdict
        )
    if verdict is Verdict.WARN:
        limit = services.settings.rate_limit_per_minute
        await reply(message, messages.RATE_LIMITED.format(limit=limit))
    return verdict is Verdict.ALLOW
