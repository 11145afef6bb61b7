"""What the buttons under an answer do: "Xem thêm", "Đoạn kế tiếp", 👍 / 👎.

Each function returns the text to answer the callback query with (None: no text). The hits
behind a button are looked up by answer id and, when forgotten, asked again from the log.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import CallbackQuery, Message
from telegram.error import TelegramError

from bot import messages
from bot.answering import pages_of, send_page
from bot.formatting import format_answer
from bot.paging import ButtonData, Pages, next_keyboard, with_votes
from bot.state import BotData
from index import Hit

logger = logging.getLogger(__name__)


async def show_more(query: CallbackQuery, data: BotData) -> str | None:
    """Send the next page of hits of an answer."""
    found = await _target(query, data)
    if isinstance(found, str):
        return found
    button, pages, target = found
    await send_page(target, data, button.answer_id, pages, button.number, quote=False)
    return None


async def show_next(query: CallbackQuery, data: BotData) -> str | None:
    """Quote the paragraph ``step`` places after a hit, with a button for the one after."""
    found = await _target(query, data)
    if isinstance(found, str):
        return found
    button, pages, target = found
    hit = pages.hits[button.number]
    following = data.searcher.neighbour(hit.chunk, button.step)
    if following is None:
        return messages.NO_NEXT_PARAGRAPH
    more = data.searcher.neighbour(hit.chunk, button.step + 1) is not None
    markup = next_keyboard(button.answer_id, button.number, button.step + 1) if more else None
    parts = format_answer([Hit(chunk=following, score=hit.score)], None)
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        await target.reply_text(part, reply_markup=markup if last else None, do_quote=False)
    return None


async def vote(query: CallbackQuery, data: BotData) -> str | None:
    """Count a 👍 or 👎 (one per user and answer, changeable) and show the counts."""
    button = ButtonData.parse(query.data)
    known = await asyncio.to_thread(data.log.find, button.answer_id) if button else None
    if button is None or known is None:
        return messages.STALE_BUTTON
    counted = await asyncio.to_thread(
        data.log.vote, button.answer_id, query.from_user.id, button.number
    )
    if not counted.counted:
        return messages.VOTE_UNCHANGED
    message = query.message
    if isinstance(message, Message) and message.reply_markup:
        markup = with_votes(message.reply_markup, button.answer_id, counted.up, counted.down)
        try:
            await message.edit_reply_markup(markup)
        except TelegramError as exc:  # the vote is stored; only the counts are not shown
            logger.warning("cannot show the vote counts in chat %s: %s", message.chat_id, exc)
    return messages.VOTE_COUNTED


async def _target(query: CallbackQuery, data: BotData) -> tuple[ButtonData, Pages, Message] | str:
    """Return the button, its answer's pages and its message; else the text to answer with."""
    button = ButtonData.parse(query.data)
    pages = await _pages(button.answer_id, data) if button else None
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
    return button, pages, target


async def _pages(answer_id: int, data: BotData) -> Pages | None:
    """Return the pages of an answer, asking its logged question again if they are gone."""
    if (pages := data.pages.find(answer_id)) is not None:
        return pages
    recalled = await asyncio.to_thread(data.asking.recall, data.searcher, answer_id)
    if recalled is None or not recalled.found:
        return None
    logger.info("answer %s asked again for a button (restart or reindex)", answer_id)
    return pages_of(recalled, data)
