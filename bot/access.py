"""Who may do what: admin commands, ALLOWED_CHAT_IDS, and the per-user question rate limit."""

from __future__ import annotations

import enum
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping

from telegram import Chat, Message, User
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError

from bot.config import Settings

logger = logging.getLogger(__name__)

WINDOW_S = 60.0
MAX_TRACKED_USERS = 10_000
_GROUP_ADMINS = (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


def is_allowed(
    settings: Settings,
    chat: Chat | None,
    user: User | None,
    migrated: Mapping[int, int] | None = None,
) -> bool:
    """Return True if ALLOWED_CHAT_IDS is empty or lists the chat, the user or an admin.

    ``migrated`` maps a supergroup's id to the id of the group it was upgraded from: the
    supergroup is served while the old group's id is allowed.
    """
    if not settings.allowed_chat_ids:
        return True
    chat_id = chat.id if chat else None
    former = (migrated or {}).get(chat_id) if chat_id is not None else None
    ids = {chat_id, former, user.id if user else None}
    return bool(ids & (settings.allowed_chat_ids | settings.admin_ids))


async def is_admin(settings: Settings, message: Message) -> bool:
    """Return True if the sender of ``message`` may use the admin commands.

    ADMIN_IDS always may; with ALLOW_GROUP_ADMINS also the group's administrators and owner,
    including an anonymous administrator (the message is sent by the group itself,
    ``sender_chat.id == chat.id``, which only administrators can do).
    """
    chat, user = message.chat, message.from_user
    if user and user.id in settings.admin_ids and not message.sender_chat:
        return True
    if not settings.allow_group_admins or chat.type not in (ChatType.GROUP, ChatType.SUPERGROUP):
        return False
    if message.sender_chat:
        return message.sender_chat.id == chat.id
    if user is None:
        return False
    try:
        member = await chat.get_member(user.id)
    except TelegramError as exc:
        logger.warning(
            "cannot check admin status of user %s in chat %s: %s", user.id, chat.id, exc
        )
        return False
    return member.status in _GROUP_ADMINS


class Verdict(enum.Enum):
    """The rate limit's answer to one question."""

    ALLOW = "allow"
    WARN = "warn"  # over the limit: tell the user once
    DROP = "drop"  # over the limit and already told


class QuestionRateLimit:
    """At most ``per_minute`` questions per user in any 60 s window (0 = unlimited)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        """Allow ``per_minute`` questions per user; ``clock`` returns seconds."""
        self.per_minute = per_minute
        self._clock = clock
        self._asked: dict[int, deque[float]] = {}
        self._warned: set[int] = set()

    def check(self, user_id: int) -> Verdict:
        """Record a question of ``user_id`` if allowed, and say whether it is."""
        if self.per_minute <= 0:
            return Verdict.ALLOW
        now = self._clock()
        if len(self._asked) > MAX_TRACKED_USERS:
            self._forget_idle(now)
        asked = self._asked.setdefault(user_id, deque())
        while asked and asked[0] <= now - WINDOW_S:
            asked.popleft()
        if len(asked) < self.per_minute:
            asked.append(now)
            self._warned.discard(user_id)
            return Verdict.ALLOW
        if user_id in self._warned:
            return Verdict.DROP
        self._warned.add(user_id)
        return Verdict.WARN

    def _forget_idle(self, now: float) -> None:
        """Drop users with no question in the window, so memory stays bounded."""
        for user_id in [
            u for u, asked in self._asked.items() if not asked or asked[-1] <= now - WINDOW_S
        ]:
            del self._asked[user_id]
            self._warned.discard(user_id)
