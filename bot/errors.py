"""The global error handler: log with the traceback, tell the user something generic."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from bot import messages
from bot.formatting import escape

logger = logging.getLogger(__name__)


async def error_handler(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log ``context.error`` with its traceback, then reply ``INTERNAL_ERROR``; never raise."""
    chat_id = (
        update.effective_chat.id if isinstance(update, Update) and update.effective_chat else None
    )
    update_id = update.update_id if isinstance(update, Update) else None
    logger.error("error handling update %s (chat %s)", update_id, chat_id, exc_info=context.error)
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query:
            await update.callback_query.answer(messages.INTERNAL_ERROR)
        elif update.effective_message:
            await update.effective_message.reply_text(escape(messages.INTERNAL_ERROR))
    except Exception as exc:  # the error handler must never raise
        logger.warning("could not tell the user about the error: %r", exc)
