"""Build the Application (handlers, defaults, rate limiter) and run it by polling or webhook."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlparse

from telegram import BotCommand, BotCommandScopeChat, LinkPreviewOptions, MessageEntity, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import handlers, importing, messages
from bot.config import Settings
from bot.errors import error_handler
from bot.inbox import Inbox
from bot.paging import MORE_PATTERN, NEXT_PATTERN, VOTE_PATTERN
from bot.processing import GracefulApplication, InboxProcessor, replay_unfinished
from bot.reindexing import schedule_reindex
from bot.state import BotData
from bot.syncing import SYNC_JOB, scheduled_sync
from bot.transport import RetryingRequest, RetryPolicy
from index import AnswerLog, Searcher

logger = logging.getLogger(__name__)

# A 429 the transport gave up on (FLOOD_WAIT_MAX_S) is waited out this often more.
MAX_RETRIES = 3
# PTB polls getUpdates alone on its own connection; everything else shares this pool.
CONNECTION_POOL_SIZE = 256
# Telegram remembers the last list: it must name every update type a handler below takes.
ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.EDITED_MESSAGE,
    Update.CALLBACK_QUERY,
    Update.INLINE_QUERY,
    Update.GUEST_MESSAGE,
]
BotApplication = Application[Any, Any, Any, Any, BotData, Any]

_MESSAGE = filters.UpdateType.MESSAGE
_ASKING = filters.UpdateType.MESSAGE | filters.UpdateType.EDITED_MESSAGE
_PRIVATE = _MESSAGE & filters.ChatType.PRIVATE
_LINKS = filters.Entity(MessageEntity.URL) & ~filters.FORWARDED
_NOT_TEXT = (
    filters.Sticker.ALL
    | filters.PHOTO
    | filters.VOICE
    | filters.AUDIO
    | filters.VIDEO
    | filters.VIDEO_NOTE
    | filters.ANIMATION
    | filters.Document.ALL
    | filters.LOCATION
    | filters.CONTACT
)


def build_application(
    settings: Settings,
    searcher: Searcher,
    rate_limiter: BaseRateLimiter[Any] | None = None,
) -> BotApplication:
    """Return the bot's Application; ``rate_limiter`` defaults to ``AIORateLimiter``.

    Answers are logged to ANSWER_LOG. A reply whose question was deleted in the meantime is
    sent without the reply (``allow_sending_without_reply``), so the answer is not lost.
    Used by :func:`run` and by the tests, against a fake Bot API server.
    """
    builder = ApplicationBuilder().token(settings.token)
    if settings.api_base_url:
        builder.base_url(settings.api_base_url).base_file_url(_file_url(settings.api_base_url))
    defaults = Defaults(
        parse_mode=ParseMode.HTML,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
        allow_sending_without_reply=True,  # a deleted question still gets its answer
    )
    application = (
        builder.defaults(defaults)
        .application_class(GracefulApplication)
        .context_types(ContextTypes(bot_data=BotData))
        .request(_request(settings, CONNECTION_POOL_SIZE))
        .get_updates_request(_request(settings, 1))
        .concurrent_updates(InboxProcessor(Inbox(settings.answer_log)))
        .rate_limiter(rate_limiter or AIORateLimiter(max_retries=MAX_RETRIES))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    application.bot_data.install(settings, searcher, open_answer_log(settings))
    _add_handlers(application)
    _schedule_sync(application, settings)
    schedule_reindex(application)
    return application


def open_answer_log(settings: Settings) -> AnswerLog:
    """Open the answer log at ANSWER_LOG with the privacy settings."""
    return AnswerLog(
        settings.answer_log,
        log_user_ids=settings.log_user_ids,
        log_questions=settings.log_questions,
    )


def run(settings: Settings, searcher: Searcher) -> None:
    """Serve until SIGINT/SIGTERM: long polling, or a webhook when WEBHOOK_URL is set.

    Start-up (getMe, deleteWebhook/setWebhook) is retried until Telegram answers.
    """
    application = build_application(settings, searcher)
    if settings.webhook_url:
        application.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=urlparse(settings.webhook_url).path.lstrip("/"),
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret or None,
            allowed_updates=ALLOWED_UPDATES,
            bootstrap_retries=-1,
        )
    else:
        application.run_polling(allowed_updates=ALLOWED_UPDATES, bootstrap_retries=-1)


def _request(settings: Settings, pool_size: int) -> RetryingRequest:
    policy = RetryPolicy(
        retries=settings.send_retries,
        backoff_s=settings.retry_backoff_s,
        flood_wait_max_s=settings.flood_wait_max_s,
    )
    return RetryingRequest(
        policy,
        connection_pool_size=pool_size,
        read_timeout=settings.read_timeout_s,
        write_timeout=settings.write_timeout_s,
        connect_timeout=settings.connect_timeout_s,
    )


def _add_handlers(application: BotApplication) -> None:
    # Before the guard: the new id of an upgraded group is not in ALLOWED_CHAT_IDS yet.
    migrate = filters.StatusUpdate.MIGRATE & _MESSAGE
    application.add_handler(MessageHandler(migrate, handlers.migrated), group=-2)
    application.add_handler(TypeHandler(Update, handlers.guard), group=-1)
    application.add_handlers(
        [
            # First: in PTB 22.8 message filters also match guest messages.
            MessageHandler(filters.UpdateType.GUEST_MESSAGE, handlers.guest_question),
            InlineQueryHandler(handlers.inline_query),
            CommandHandler("start", handlers.start, _MESSAGE),
            CommandHandler("help", handlers.help_command, _MESSAGE),
            CommandHandler("ask", handlers.ask, _ASKING),
            CommandHandler("reindex", handlers.reindex, _MESSAGE),
            CommandHandler("stats", handlers.stats, _MESSAGE),
            CommandHandler("add", importing.add_command, _MESSAGE),
            CommandHandler("remove", importing.remove_command, _MESSAGE),
            CommandHandler("sync", importing.sync_command, _MESSAGE),
            MessageHandler(_PRIVATE & filters.FORWARDED, importing.add_forward),
            MessageHandler(_PRIVATE & filters.Document.ALL, importing.add_document),
            MessageHandler(
                _PRIVATE & filters.TEXT & _LINKS & ~filters.COMMAND, importing.add_links
            ),
            MessageHandler(
                _ASKING & (filters.TEXT | filters.CAPTION) & ~filters.COMMAND,
                handlers.answer_question,
            ),
            MessageHandler(_PRIVATE & filters.COMMAND, handlers.unknown_command),
            MessageHandler(_PRIVATE & _NOT_TEXT, handlers.non_text_hint),
            CallbackQueryHandler(handlers.show_more, pattern=MORE_PATTERN),
            CallbackQueryHandler(handlers.show_next, pattern=NEXT_PATTERN),
            CallbackQueryHandler(handlers.vote, pattern=VOTE_PATTERN),
            CallbackQueryHandler(handlers.stale_button),
        ]
    )
    application.add_error_handler(error_handler)


def _schedule_sync(application: BotApplication, settings: Settings) -> None:
    """Fetch FEEDS and SITEMAPS every SYNC_EVERY minutes (PTB's JobQueue), if both are set."""
    minutes = settings.sync_every_minutes
    if not minutes or not settings.web.sources:
        return
    if application.job_queue is None:
        logger.warning("SYNC_EVERY is set but PTB's job queue is missing: pip install -e .")
        return
    application.job_queue.run_repeating(
        scheduled_sync, interval=minutes * 60, first=minutes * 60, name=SYNC_JOB
    )
    logger.info("fetching %d sources every %d minutes", len(settings.web.sources), minutes)


async def _post_init(application: BotApplication) -> None:
    """Register the command menu and log what the bot serves and can see."""
    bot, settings = application.bot, application.bot_data.settings
    await bot.set_my_commands([BotCommand(name, text) for name, text in messages.COMMANDS])
    every_command = [BotCommand(n, t) for n, t in messages.COMMANDS + messages.ADMIN_COMMANDS]
    for admin_id in sorted(settings.admin_ids):
        try:  # fails until the admin has opened a private chat with the bot
            await bot.set_my_commands(every_command, scope=BotCommandScopeChat(admin_id))
        except TelegramError as exc:
            logger.info("admin command menu not set for user %s: %s", admin_id, exc)
    manifest = application.bot_data.searcher.manifest
    logger.info(
        "bot @%s ready: %d chunks of %d articles, model %s (dim %d), index built %s",
        bot.username,
        manifest.count,
        manifest.articles,
        manifest.model,
        manifest.dim,
        manifest.built_at,
    )
    if not bot.can_read_all_group_messages:
        logger.warning(
            "privacy mode is on (can_read_all_group_messages is false): in groups the bot may "
            "miss @mentions; turn it off with @BotFather /setprivacy or make the bot an admin"
        )
    await replay_unfinished(application)


async def _post_shutdown(application: BotApplication) -> None:
    """Close the answer log."""
    application.bot_data.log.close()


def _file_url(base_url: str) -> str:
    """Return the file URL of a Bot API server: .../bot -> .../file/bot."""
    return base_url.removesuffix("/bot") + "/file/bot" if base_url.endswith("/bot") else base_url
