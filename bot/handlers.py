"""Update handlers: each one short, delegating to answering, buttons, inline and reindexing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from telegram import CallbackQuery, Message, Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop

from bot import buttons, messages
from bot.access import is_admin, is_allowed
from bot.addressing import command_argument, question_for_us
from bot.answering import answer, reply
from bot.command_texts import format_help, format_stats
from bot.formatting import escape
from bot.inline import answer_guest, answer_inline
from bot.migration import follow_migration
from bot.reindexing import reindex as rebuild_index
from bot.state import BotData, Context
from index import summarize

logger = logging.getLogger(__name__)

ButtonAction = Callable[[CallbackQuery, BotData], Awaitable[str | None]]


async def guard(update: object, context: Context) -> None:
    """Stop every update from outside ALLOWED_CHAT_IDS; say so politely in private chats."""
    data = context.bot_data
    if not isinstance(update, Update) or is_allowed(
        data.settings, update.effective_chat, update.effective_user, data.migrated
    ):
        return
    chat, user = update.effective_chat, update.effective_user
    logger.info("not in ALLOWED_CHAT_IDS: chat %s, user %s", chat and chat.id, user and user.id)
    if update.callback_query:
        await update.callback_query.answer(messages.NOT_ALLOWED)
    elif update.message and update.message.chat.type == ChatType.PRIVATE:
        await reply(update.message, messages.NOT_ALLOWED)
    raise ApplicationHandlerStop


async def migrated(update: Update, context: Context) -> None:
    """Keep serving a group upgraded to a supergroup; warn the operator to update the setting."""
    if message := update.effective_message:
        await follow_migration(message, context.bot_data)


async def start(update: Update, context: Context) -> None:
    """Greet the user and explain how to ask."""
    if message := update.effective_message:
        help_text = format_help(context.bot.username)
        await message.reply_text(f"{escape(messages.START)}\n\n{help_text}")


async def help_command(update: Update, context: Context) -> None:
    """Explain how to ask, list the commands and give example questions."""
    if message := update.effective_message:
        await message.reply_text(format_help(context.bot.username))


async def answer_question(update: Update, context: Context) -> None:
    """Answer a private message, or a group message that mentions or replies to the bot.

    Text and captions alike; an edited message is answered again if the edit changed it.
    """
    message = update.effective_message
    question = question_for_us(message, context.bot.bot) if message else None
    if message and question is not None and _new_question(message, question, context):
        await answer(message, question, context.bot_data)


async def ask(update: Update, context: Context) -> None:
    """Answer ``/ask question`` (also ``/ask@BotName question``, or a reply) in any chat."""
    if not (message := update.effective_message):
        return
    question = command_argument(message, context.bot.bot)
    if not _new_question(message, question, context):
        return
    if not question.strip():
        example = messages.EXAMPLE_QUESTIONS[0]
        await reply(message, messages.ASK_USAGE.format(example=example))
        return
    await answer(message, question, context.bot_data)


async def guest_question(update: Update, context: Context) -> None:
    """Answer a guest message: the bot mentioned in a chat it is not a member of."""
    if message := update.guest_message:
        await answer_guest(message, context.bot.bot, context.bot_data)


async def inline_query(update: Update, context: Context) -> None:
    """Show the best quoted paragraphs for ``@bot câu hỏi`` typed in any chat."""
    if query := update.inline_query:
        await answer_inline(query, context.bot_data)


async def show_more(update: Update, context: Context) -> None:
    """ "Xem thêm": the next hits of an answer."""
    await _press(update, context, buttons.show_more)


async def show_next(update: Update, context: Context) -> None:
    """ "Đoạn kế tiếp": the paragraph after a quoted one."""
    await _press(update, context, buttons.show_next)


async def vote(update: Update, context: Context) -> None:
    """👍 / 👎 under an answer."""
    await _press(update, context, buttons.vote)


async def stale_button(update: Update, context: Context) -> None:
    """Any other button (e.g. from an older version of the bot): a polite answer."""
    if query := update.callback_query:
        await query.answer(messages.STALE_BUTTON)


async def non_text_hint(update: Update, context: Context) -> None:
    """Tell a private user that stickers, voice and photos without a caption cannot be read."""
    if message := update.effective_message:
        await reply(message, messages.NON_TEXT_HINT)


async def unknown_command(update: Update, context: Context) -> None:
    """Point a private user who typed an unknown command to /help."""
    if message := update.effective_message:
        await reply(message, messages.UNKNOWN_COMMAND)


async def reindex(update: Update, context: Context) -> None:
    """Rebuild the index (admins only; one at a time) while questions keep being answered."""
    if not (message := await _from_admin(update, context, "reindex")):
        return
    if context.bot_data.reindex_lock.locked():
        await reply(message, messages.REINDEX_BUSY)
    else:
        await rebuild_index(message, context.bot_data)


async def stats(update: Update, context: Context) -> None:
    """Show the index, questions, answered share, votes and the archive's gaps (admins)."""
    if not (message := await _from_admin(update, context, "stats")):
        return
    data = context.bot_data
    figures = await asyncio.to_thread(summarize, data.log)
    await message.reply_text(format_stats(data.searcher.manifest, data.questions, figures))


async def _press(update: Update, context: Context, action: ButtonAction) -> None:
    if query := update.callback_query:
        await query.answer(await action(query, context.bot_data))


def _new_question(message: Message, question: str, context: Context) -> bool:
    """False for an edit that left the question as it was (already answered)."""
    recent = context.bot_data.recent
    return recent.changed(message.chat_id, message.message_id, question.strip())


async def _from_admin(update: Update, context: Context, command: str) -> Message | None:
    """Return the command's message if an admin sent it; refuse (and log) anyone else."""
    if not (message := update.effective_message):
        return None
    if await is_admin(context.bot_data.settings, message):
        return message
    sender = message.sender_chat or message.from_user
    kind = "chat" if message.sender_chat else "user"
    logger.warning(
        "refused /%s from %s %s in chat %s", command, kind, sender and sender.id, message.chat_id
    )
    await reply(message, messages.NOT_ADMIN)
    return None
