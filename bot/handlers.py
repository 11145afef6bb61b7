"""Update handlers: each one short, delegating to answering, reindexing and command_texts."""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot import messages
from bot.access import is_admin, is_allowed
from bot.addressing import command_argument, question_for_us
from bot.answering import answer, follow_button, reply
from bot.command_texts import format_help, format_stats
from bot.formatting import escape
from bot.reindexing import reindex as rebuild_index
from bot.services import searcher_of, services_of

logger = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE


async def guard(update: object, context: Context) -> None:
    """Stop every update from outside ALLOWED_CHAT_IDS; say so politely in private chats."""
    settings = services_of(context.bot_data).settings
    if not isinstance(update, Update) or is_allowed(
        settings, update.effective_chat, update.effective_user
    ):
        return
    chat, user = update.effective_chat, update.effective_user
    logger.info("not in ALLOWED_CHAT_IDS: chat %s, user %s", chat and chat.id, user and user.id)
    if update.callback_query:
        await update.callback_query.answer(messages.NOT_ALLOWED)
    elif update.message and update.message.chat.type == ChatType.PRIVATE:
        await reply(update.message, messages.NOT_ALLOWED)
    raise ApplicationHandlerStop


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
    """Answer a private message, or a group message that mentions or replies to the bot."""
    message = update.effective_message
    question = question_for_us(message, context.bot.bot) if message else None
    if message and question is not None:
        await answer(message, question, context.bot_data)


async def ask(update: Update, context: Context) -> None:
    """Answer ``/ask question`` (also ``/ask@BotName question``) in any chat."""
    if not (message := update.effective_message):
        return
    question = command_argument(message, context.bot.bot)
    if not question.strip():
        example = messages.EXAMPLE_QUESTIONS[0]
        await reply(message, messages.ASK_USAGE.format(example=example))
        return
    await answer(message, question, context.bot_data)


async def press_button(update: Update, context: Context) -> None:
    """Follow "Xem thêm" / "Đoạn kế tiếp"; a stale button gets a polite callback answer."""
    if query := update.callback_query:
        await query.answer(await follow_button(query, context.bot_data))


async def non_text_hint(update: Update, context: Context) -> None:
    """Tell a private user that stickers, photos and voice cannot be read."""
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
    if services_of(context.bot_data).reindex_lock.locked():
        await reply(message, messages.REINDEX_BUSY)
    else:
        await rebuild_index(message, context.bot_data)


async def stats(update: Update, context: Context) -> None:
    """Show articles, paragraphs, model, index age and questions answered (admins only)."""
    if not (message := await _from_admin(update, context, "stats")):
        return
    manifest = searcher_of(context.bot_data).manifest
    await message.reply_text(format_stats(manifest, services_of(context.bot_data).questions))


async def _from_admin(update: Update, context: Context, command: str) -> Message | None:
    """Return the command's message if an admin sent it; refuse (and log) anyone else."""
    message, user = update.effective_message, update.effective_user
    if not message or not user:
        return None
    if await is_admin(services_of(context.bot_data).settings, message.chat, user):
        return message
    logger.warning("refused /%s from user %s in chat %s", command, user.id, message.chat_id)
    await reply(message, messages.NOT_ADMIN)
    return None
