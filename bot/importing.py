"""Admins bring articles in from the chat: links and /add, files, forwarded posts, /remove, /sync.

Everything here is for admins only (ADMIN_IDS; group admins with ALLOW_GROUP_ADMINS), like
/reindex. Links, files and forwards are read in private chats; the commands work anywhere.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import timedelta, timezone

from telegram import Message, MessageEntity, MessageOriginChannel, Update
from telegram.ext import ContextTypes

from bot import messages
from bot.access import is_admin
from bot.formatting import escape
from bot.handlers import answer_question, non_text_hint
from bot.services import services_of
from bot.syncing import fetch_into_archive, format_sync, reason_text, update_index
from index import (
    MAX_UPLOAD_BYTES,
    UPLOAD_SUFFIXES,
    Article,
    FetchReport,
    RetrievalError,
    UploadReport,
    remove_article,
    save_post,
    save_upload,
)

logger = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
VIETNAM = timezone(timedelta(hours=7))  # no daylight saving time
MAX_TITLE_CHARS = 120
MAX_FIRST_PARAGRAPH_CHARS = 400
MAX_LISTED = 10
_PUNCTUATION_ONLY = re.compile(r"[\s,;]*")


async def add_command(update: Update, context: Context) -> None:
    """``/add URL…``: fetch the links (articles, feeds, sitemaps) and index them."""
    if not (message := await _from_admin(update, context, "add")):
        return
    urls = [word for word in context.args or [] if word.startswith(("http://", "https://"))]
    if not urls:
        await message.reply_text(escape(messages.ADD_USAGE))
        return
    await _add_urls(message, urls, context)


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
    if not await _from_admin(update, context, "document", messages.UPLOAD_ADMIN_ONLY):
        return
    document, name = message.document, message.document.file_name or "tep"
    if not name.lower().endswith(UPLOAD_SUFFIXES):
        await message.reply_text(escape(messages.UPLOAD_WRONG_TYPE))
        return
    if (document.file_size or 0) > MAX_UPLOAD_BYTES:
        size, limit = (document.file_size or 0) // 2**20, MAX_UPLOAD_BYTES // 2**20
        await message.reply_text(escape(messages.UPLOAD_TOO_LARGE.format(size=size, limit=limit)))
        return
    content = bytes(await (await document.get_file()).download_as_bytearray())
    data_dir = services_of(context.bot_data).settings.data_dir
    try:
        saved = await asyncio.to_thread(save_upload, data_dir, name, content)
    except RetrievalError as exc:
        await message.reply_text(escape(messages.UPLOAD_FAILED.format(name=name, reason=exc)))
        return
    await message.reply_text(await _indexed(context, format_upload(name, saved)))


async def add_forward(update: Update, context: Context) -> None:
    """An admin's post forwarded from a channel becomes an article; others' is a question."""
    message, user = update.effective_message, update.effective_user
    settings = services_of(context.bot_data).settings
    if not message or not user or not await is_admin(settings, message.chat, user):
        await (answer_question if message and message.text else non_text_hint)(update, context)
        return
    origin, text = message.forward_origin, message.text or message.caption or ""
    if not isinstance(origin, MessageOriginChannel):
        await message.reply_text(escape(messages.FORWARD_NOT_CHANNEL))
        return
    if not text.strip():
        await message.reply_text(escape(messages.FORWARD_EMPTY))
        return
    article = post_article(origin, text)
    data_dir = services_of(context.bot_data).settings.data_dir
    channel = origin.chat.username or str(origin.chat.id)
    _, saved = await asyncio.to_thread(save_post, data_dir, channel, origin.message_id, article)
    await message.reply_text(await _indexed(context, format_added(saved, changed=False)))


async def remove_command(update: Update, context: Context) -> None:
    """``/remove URL|article-id``: delete the article file and its paragraphs from the index."""
    if not (message := await _from_admin(update, context, "remove")):
        return
    if not context.args:
        await message.reply_text(escape(messages.REMOVE_USAGE))
        return
    data_dir = services_of(context.bot_data).settings.data_dir
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
    sources = services_of(context.bot_data).settings.web.sources
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
    title = lines[0] if titled else _shorten(lines[0], MAX_TITLE_CHARS)
    chat = origin.chat
    where = chat.username or f"c/{str(chat.id).removeprefix('-100')}"
    return Article(
        article_id="",
        title=title,
        paragraphs=tuple(lines[1:] if titled else lines),
        date=origin.date.astimezone(VIETNAM).date().isoformat(),
        source=chat.title or chat.username or "",
        url=f"https://t.me/{where}/{origin.message_id}",
    )


def format_added(article: Article, changed: bool) -> str:
    """Return "Đã thêm: <title> (N đoạn)" and the first paragraph (HTML)."""
    head = messages.UPDATED if changed else messages.ADDED
    text = head.format(title=article.title, paragraphs=len(article.paragraphs))
    first = _shorten(article.paragraphs[0], MAX_FIRST_PARAGRAPH_CHARS)
    return f"{escape(text)}\n<blockquote>{escape(first)}</blockquote>"


def format_fetch(report: FetchReport) -> str:
    """Return the reply to links: each article added, each failure, or "nothing new" (HTML)."""
    parts = []
    for fetched in report.articles[:MAX_LISTED]:
        article = Article("", fetched.title, (fetched.first_paragraph,) * fetched.paragraphs)
        parts.append(format_added(article, fetched.changed))
    for failure in report.failures[:MAX_LISTED]:
        reason = reason_text(failure.reason)
        parts.append(escape(messages.NOT_ADDED.format(url=failure.url, reason=reason)))
    if not parts:
        parts.append(escape(messages.NOTHING_NEW.format(count=report.unchanged)))
    return "\n\n".join(parts)


def format_upload(name: str, saved: UploadReport) -> str:
    """Return the reply to a file: what was added, then the lines skipped (HTML)."""
    lines = [escape(messages.UPLOAD_SAVED.format(name=name, count=len(saved.articles)))]
    lines += [
        escape(messages.UPLOAD_ARTICLE.format(title=a.title, paragraphs=len(a.paragraphs)))
        for a in saved.articles[:MAX_LISTED]
    ]
    if saved.problems:
        lines += [escape(messages.UPLOAD_SKIPPED)]
        lines += [f"• <code>{escape(p)}</code>" for p in saved.problems[:MAX_LISTED]]
    return "\n".join(lines)


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
    message, user = update.effective_message, update.effective_user
    if not message or not user:
        return None
    if await is_admin(services_of(context.bot_data).settings, message.chat, user):
        return message
    logger.warning("refused %s from user %s in chat %s", what, user.id, message.chat_id)
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


def _shorten(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    return text[:max_chars].rsplit(" ", 1)[0] + "…"
