"""A group upgraded to a supergroup gets a new chat id: keep serving it, tell the operator.

Telegram sends two service messages: ``migrate_to_chat_id`` in the old group and
``migrate_from_chat_id`` in the new supergroup. If ALLOWED_CHAT_IDS lists the old id, the new
one is served for as long as the old one stays listed (the pair is kept in the answer log, so
a restart remembers it), and a WARNING names both ids so the operator updates the setting.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import Message

from bot.state import BotData

logger = logging.getLogger(__name__)


async def follow_migration(message: Message, data: BotData) -> None:
    """Record the old and new id of an upgraded group and warn if the setting must change."""
    if message.migrate_to_chat_id:
        old, new = message.chat_id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id:
        old, new = message.migrate_from_chat_id, message.chat_id
    else:
        return
    if data.migrated.get(new) == old:
        return  # the second of the two service messages
    allowed = data.settings.allowed_chat_ids
    if not allowed or old not in allowed:
        logger.info("group %s was upgraded to supergroup %s", old, new)
        return
    data.migrated[new] = old
    await asyncio.to_thread(data.log.note_migration, old, new)
    logger.warning(
        "group %s was upgraded to supergroup %s: serving %s because ALLOWED_CHAT_IDS lists %s; "
        "replace %s with %s in ALLOWED_CHAT_IDS",
        old,
        new,
        new,
        old,
        old,
        new,
    )
