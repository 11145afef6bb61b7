"""Inline mode (``@bot câu hỏi`` typed in any chat) and guest mode (an @mention in a chat the
bot is not a member of): both answer with ``InlineQueryResultArticle`` results.

Inline queries arrive one per keystroke, so they are searched but not logged; Telegram caches
each query's results for ``INLINE_CACHE_S``. A guest question is asked once and logged.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging

from telegram import (
    InlineQuery,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    User,
)
from telegram.constants import ParseMode

from bot import messages
from bot.access import Verdict
from bot.addressing import guest_question
from bot.formatting import escape, format_answer, format_not_found, truncation_note
from bot.state import BotData
from index import Answer, Hit, Origin

logger = logging.getLogger(__name__)

INLINE_CACHE_S = 30  # short: answers change with /reindex
# Telegram drops an inline answer after about 10 s; answer "không tìm thấy" well before.
INLINE_TIMEOUT_S = 5.0
MAX_DESCRIPTION_CHARS = 120
MAX_TITLE_CHARS = 200


async def answer_inline(query: InlineQuery, data: BotData) -> None:
    """Answer an inline query with the best quoted paragraphs, or a hint result."""
    origin = Origin("inline", query.chat_type or "unknown")
    try:
        found = await asyncio.wait_for(
            asyncio.to_thread(data.asking.find, data.searcher, query.query, origin),
            INLINE_TIMEOUT_S,
        )
    except TimeoutError:
        logger.warning("inline query not searched within %.0f s", INLINE_TIMEOUT_S)
        found = None
    if found is not None and not found.question.text:
        empty = messages.INLINE_EMPTY.format(example=messages.EXAMPLE_QUESTIONS[0])
        results = [_hint(messages.INLINE_EMPTY_TITLE, empty)]
    elif found is None or not found.found:
        results = [_hint(messages.INLINE_NOT_FOUND_TITLE, messages.NOT_FOUND)]
    else:
        results = [_quote_result(hit) for hit in found.hits]
    await query.answer(results, cache_time=INLINE_CACHE_S, is_personal=False)


async def answer_guest(message: Message, bot: User, data: BotData) -> None:
    """Answer a guest message (the bot @mentioned where it is not a member) with one result."""
    user = message.from_user
    verdict = data.rate_limit.check(user.id) if user else Verdict.ALLOW
    if verdict is Verdict.DROP:
        return
    if verdict is Verdict.WARN:
        limited = messages.RATE_LIMITED.format(limit=data.settings.rate_limit_per_minute)
        await message.answer_guest_query(_hint(messages.INLINE_NOT_FOUND_TITLE, limited))
        return
    text = guest_question(message, bot)
    origin = Origin("guest", message.chat.type, message.chat_id, user.id if user else None)
    result = await asyncio.to_thread(data.asking.ask, data.searcher, text, origin)
    if result.question.text:
        data.questions += 1
    await message.answer_guest_query(_guest_result(result, data))


def _guest_result(result: Answer, data: BotData) -> InlineQueryResultArticle:
    if not result.question.text:
        empty = messages.EMPTY_QUERY.format(example=messages.EXAMPLE_QUESTIONS[0])
        return _hint(messages.INLINE_EMPTY_TITLE, empty)
    note = truncation_note(result.question.truncated, data.settings.max_question_chars)
    if not result.found:
        return _hint(messages.INLINE_NOT_FOUND_TITLE, format_not_found(note))
    parts = format_answer(result.hits[: data.settings.top_k], 1, note)
    return _article(result.hits[0].chunk.title, _start(result.hits[0]), parts[0])


def _quote_result(hit: Hit) -> InlineQueryResultArticle:
    """One paragraph: title, the start of the paragraph, and the quote as the bot sends it."""
    [text, *_] = format_answer([hit], None)
    return _article(hit.chunk.title, _start(hit), text)


def _hint(title: str, text: str) -> InlineQueryResultArticle:
    return _article(title, text, escape(text))


def _article(title: str, description: str, html_text: str) -> InlineQueryResultArticle:
    return InlineQueryResultArticle(
        id=hashlib.sha256(html_text.encode()).hexdigest()[:32],
        title=title[:MAX_TITLE_CHARS],
        description=description[:MAX_DESCRIPTION_CHARS],
        input_message_content=InputTextMessageContent(html_text, parse_mode=ParseMode.HTML),
    )


def _start(hit: Hit) -> str:
    return hit.chunk.text[:MAX_DESCRIPTION_CHARS]
