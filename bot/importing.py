"""Admins bring articles in from the chat: links and /add, files, forwarded posts, /remove, /sync.

Everything here is for admins only (ADMIN_IDS; group admins with ALLOW_GROUP_ADMINS), like
/reindex. Links, files and forwards are read in private chats; the commands work anywhere.
Replies are built by ``bot.import_texts``; fetching and index updates by ``bot.syncing``.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import timedelta, timezone

from telegram import Document, Message, MessageEntity, MessageOriginChannel, Update

from bot import messages
from bot.access import is_admin
from bot.formatting import escape
from bot.handlers import answer_question, non_text_hint
from bot.import_texts import format_added, format_fetch, format_sync, format_upload, shorten
from bot.state import Context
from bot.syncing import fetch_into_archive, update_index
from index import (
    MAX_UPLOAD_BYTES,
    UPLOAD_SUFFIXES,
    Article,
    RetrievalError,
    remove_article,
    save_post,
    save_upload,
)

logger = logging.getLogger(__name__)

VIETNAM = timezone(timedelta(hours=7))  # no daylight saving time
MAX_TITLE_CHARS = 120
_PUNCTUATION_ONLY = re.compile(r"[\s,;]*")


async def add_command(update: Update, context: Context) -> None:
    """``/add URL…``: fetch the links (articles, feeds, sitemaps) and index them."""
    if not (message := await _from_admin(update, context, "add")):
        return
    urls = [word for word in context.args or [] if word.startswith(("http://", "https://"))]
    if urls:
        await _add_urls(message, urls, context)
    else:
        await message.reply_text(escape(messages.ADD_USAGE))


async def add_links(update: Update, context: Context) -> None:
    """A private message of only links: an admin's links are added; other text is a question."""
    message = update.effective_message
    urls = _links_only(message) if message else []
    if not message or not urls:
        await answer_question(update, context)
    elif await _from_admin(update, context, "links", messages.LINKS_ADMIN_ONLY):
        await _add_urls(message, urls, context)


async def add_document(update: Update, context: Context) -> None:
    """An admin's file (.md, .txt, .html, .jsonl, <= 20 MB) is saved into DATA_DIR and indexed."""
    message = update.effective_message
    if not message or not message.document:
        return
    if message.caption and not await is_admin(context.bot_data.settings, message):
        await answer_question(update, context)  # a file with a question as its caption
        return
    if not await _from_admin(update, context, "document", messages.UPLOAD_ADMIN_ONLY):
        return
    if problem := _document_problem(message.document):
        await message.reply_text(escape(problem))
        return
    await message.reply_text(await _save_document(message.document, context))


async def add_forward(update: Update, context: Context) -> None:
    """An admin's post forwarded from a channel becomes an article; others' is a question."""
    message = update.effective_message
    if not message or not await is_admin(context.bot_data.settings, message):
        await (answer_question if message and message.text else non_text_hint)(update, context)
        return
    origin, text = message.forward_origin, message.text or message.caption or ""
    if not isinstance(origin, MessageOriginChannel) or not text.strip():
        empty = isinstance(origin, MessageOriginChannel)
        await message.reply_text(
            escape(messages.FORWARD_EMPTY if empty else messages.FORWARD_NOT_CHANNEL)
        )
        return
    await message.reply_text(await _save_post(origin, text, context))


async def remove_command(update: Update, context: Context) -> None:
    """``/remove URL|article-id``: delete the article file and its paragraphs from the index."""
    if not (message := await _from_admin(update, context, "remove")):
        return
    if not context.args:
        await message.reply_text(escape(messages.REMOVE_USAGE))
        return
    data_dir = context.bot_data.settings.data_dir
    try:
        removed = await asyncio.to_thread(remove_article, data_dir, " ".join(context.args))
    except RetrievalError as exc:
        await message.reply_text(escape(messages.REMOVE_FAILED.format(reason=exc)))
        return
    await message.reply_text(await _indexed(context, messages.REMOVED.format(title=removed.title)))


async def sync_command(update: Update, context: Context) -> None:
    """``/sync``: fetch FEEDS and SITEMAPS now and report the counts."""
    if not (message := await _from_admin(update, context, "sync")):
        return
    sources = context.bot_data.settings.web.sources
    if not sources:
        await message.reply_text(escape(messages.SYNC_NOT_CONFIGURED))
        return
    await message.reply_text(escape(messages.SYNC_STARTED.format(count=len(sources))))
    report = await fetch_into_archive(context.bot_data, sources)
    await message.reply_text(format_sync(report))


def post_article(origin: MessageOriginChannel, text: str) -> Article:
    """A channel post as an article: first line as title, source the channel, its t.me link."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    titled = len(lines) > 1 and len(lines[0]) <= MAX_TITLE_CHARS
    chat = origin.chat
    where = chat.username or f"c/{str(chat.id).removeprefix('-100')}"
    return Article(
        article_id="",
        title=lines[0] if titled else shorten(lines[0], MAX_TITLE_CHARS),
        paragraphs=tuple(lines[1:] if titled else lines),
        date=origin.date.astimezone(VIETNAM).date().isoformat(),
        source=chat.title or chat.username or "",
        url=f"https://t.me/{where}/{origin.message_id}",
    )


def _document_problem(document: Document) -> str | None:
    """Why a file is refused before downloading it (type, size), or None."""
    if not (document.file_name or "").lower().endswith(UPLOAD_SUFFIXES):
        return messages.UPLOAD_WRONG_TYPE
    if (document.file_size or 0) > MAX_UPLOAD_BYTES:
        size, limit = (document.file_size or 0) // 2**20, MAX_UPLOAD_BYTES // 2**20
        return messages.UPLOAD_TOO_LARGE.format(size=size, limit=limit)
    return None


async def _save_document(document: Document, context: Context) -> str:
    """Download (getFile), save and index a file; return the reply."""
    name = document.file_name or ""
    content = bytes(await (await document.get_file()).download_as_bytearray())
    data_dir = context.bot_data.settings.data_dir
    try:
        saved = await asyncio.to_thread(save_upload, data_dir, name, content)
    except RetrievalError as exc:
        return escape(messages.UPLOAD_FAILED.format(name=name, reason=exc))
    return await _indexed(context, format_upload(name, saved))


async def _save_post(origin: MessageOriginChannel, text: str, context: Context) -> str:
    """Save and index a forwarded channel post; return the reply."""
    data_dir = context.bot_data.settings.data_dir
    channel = origin.chat.username or str(origin.chat.id)
    article = post_article(origin, text)
    _, saved = await asyncio.to_thread(save_post, data_dir, channel, origin.message_id, article)
    return await _indexed(context, format_added(saved, changed=False))


async def _add_urls(message: Message, urls: list[str], context: Context) -> None:
    await message.reply_text(escape(messages.ADDING.format(count=len(urls))))
    try:
        report = await fetch_into_archive(context.bot_data, urls)
    except RetrievalError as exc:
        await message.reply_text(escape(messages.INDEX_NOT_UPDATED.format(reason=exc)))
        return
    await message.reply_text(format_fetch(report))


async def _indexed(context: Context, text: str) -> str:
    """Update the index after a file changed in DATA_DIR; return ``text`` or why it failed."""
    try:
        await update_index(context.bot_data)
    except RetrievalError as exc:
        return escape(messages.INDEX_NOT_UPDATED.format(reason=exc))
    return text


async def _from_admin(
    update: Update, context: Context, what: str, refusal: str = messages.NOT_ADMIN
) -> Message | None:
    """Return the message if an admin sent it; refuse (and log) anyone else."""
    if not (message := update.effective_message):
        return None
    if await is_admin(context.bot_data.settings, message):
        return message
    sender = message.sender_chat or message.from_user
    logger.warning("refused %s from %s in chat %s", what, sender and sender.id, message.chat_id)
    await message.reply_text(escape(refusal))
    return None


def _links_only(message: Message) -> list[str]:
    """The URLs of a message made of links only (commas and spaces between), else []."""
    found = list(message.parse_entities([MessageEntity.URL]).values())
    rest = message.text or ""
    for url in found:
        rest = rest.replace(url, " ", 1)
    urls = [url if "://" in url else f"https://{url}" for url in found]
    return urls if urls and _PUNCTUATION_ONLY.fullmatch(rest) else []
