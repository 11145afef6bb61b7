"""The global error handler: expected conditions in one log line, bugs with their traceback.

=========================================================  =================  ==============
error                                                      log                the user gets
=========================================================  =================  ==============
``DeliveryUnknown`` (sent, no answer in time)              WARNING, one line  nothing more
403 (blocked, kicked); 400 query too old, message not      INFO, one line     nothing
modified, reply target not found
network error, timeout, 5xx, 429 after the transport's     WARNING, one line  the apology
retries (bot/transport.py); search engine (Qdrant) down
getUpdates failures (no update; polling goes on)           WARNING, one line  -
anything else: a bug                                       ERROR, traceback   the apology
=========================================================  =================  ==============

The apology goes through the same retrying transport, so it is retried too.
"""

from __future__ import annotations

import enum
import logging

from telegram import Update
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, TelegramError
from telegram.ext import ContextTypes

from bot import messages
from bot.formatting import escape
from bot.transport import DeliveryUnknown
from index import SearchUnavailableError

logger = logging.getLogger(__name__)

# Lower-cased parts of Telegram's 400 descriptions that say "nothing left to do".
HARMLESS_BAD_REQUESTS = (
    "query is too old",
    "message is not modified",
    "message to be replied not found",
    "replied message not found",
)


class Kind(enum.Enum):
    """How an error is logged and whether the user gets an apology."""

    HARMLESS = "harmless"
    DELIVERY_UNKNOWN = "delivery unknown"
    TRANSIENT = "Telegram unavailable"
    BUG = "bug"


def classify(error: BaseException | None) -> Kind:
    """Return the kind of ``error`` (see the module docstring)."""
    if isinstance(error, DeliveryUnknown):
        return Kind.DELIVERY_UNKNOWN
    if isinstance(error, Forbidden):
        return Kind.HARMLESS
    if isinstance(error, BadRequest):
        text = str(error).lower()
        return Kind.HARMLESS if any(part in text for part in HARMLESS_BAD_REQUESTS) else Kind.BUG
    if isinstance(error, SearchUnavailableError):  # Qdrant down: logged once by the store
        return Kind.TRANSIENT
    if isinstance(error, NetworkError | Conflict):  # NetworkError covers TimedOut, RetryAfter
        return Kind.TRANSIENT
    return Kind.BUG


async def error_handler(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log ``context.error`` as its kind says, then apologise if it says so; never raise."""
    error, kind = context.error, classify(context.error)
    where = _where(update)
    if kind is Kind.BUG:
        logger.error("error handling %s", where, exc_info=error)
    elif kind is Kind.HARMLESS:
        logger.info("%s: %s: %s", where, type(error).__name__, error)
    else:
        logger.warning("%s: %s: %s: %s", where, kind.value, type(error).__name__, error)
    if kind in (Kind.BUG, Kind.TRANSIENT) and isinstance(update, Update):
        await _apologise(update)


def _where(update: object) -> str:
    if not isinstance(update, Update):
        return "polling"
    chat = update.effective_chat
    return f"update {update.update_id} (chat {chat.id if chat else None})"


async def _apologise(update: Update) -> None:
    try:
        if update.callback_query:
            await update.callback_query.answer(messages.INTERNAL_ERROR)
        elif update.effective_message:
            await update.effective_message.reply_text(escape(messages.INTERNAL_ERROR))
    except TelegramError as exc:
        logger.warning("could not apologise for update %s: %s", update.update_id, exc)
    except Exception:  # the error handler must never raise
        logger.exception("could not apologise for update %s", update.update_id)
