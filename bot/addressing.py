"""Is a message for us (private chat, our @mention, a reply to us, /ask), and what does it ask.

A question is read from the text, or from the caption of a photo, video or document: both
carry entities, read with UTF-16 offsets by ``parse_entities``/``parse_caption_entities``.
A bare mention or ``/ask`` sent as a reply asks the replied-to message.
"""

from __future__ import annotations

import re

from telegram import Message, MessageEntity, User
from telegram.constants import ChatType

_USERNAME_END = r"(?![A-Za-z0-9_])"
_MENTIONS: list[str | None] = [MessageEntity.MENTION, MessageEntity.TEXT_MENTION]


def question_for_us(message: Message, bot: User) -> str | None:
    """Return the text a message asks the bot, or None when the message is not for the bot.

    Private chats: the whole text (or caption). Groups: only when the message mentions the
    bot (``@username`` or a text mention) or replies to one of its messages; our mentions
    are removed from the question. A bare mention replying to someone else's message asks
    that message.
    """
    text = content(message)
    if text is None:
        return None
    if message.chat.type == ChatType.PRIVATE:
        return text
    mentions = _our_mentions(message, bot)
    if not mentions and not _replies_to(message, bot):
        return None
    question = _without(text, mentions)
    return question if question.strip() else replied_question(message, bot)


def guest_question(message: Message, bot: User) -> str:
    """Return what a guest message asks: its text without our mentions, or the replied text."""
    question = _without(content(message) or "", _our_mentions(message, bot))
    return question if question.strip() else replied_question(message, bot)


def command_argument(message: Message, bot: User) -> str:
    """Return the text after a leading ``/command`` or ``/command@bot``, our mentions removed.

    A bare command replying to someone else's message returns that message's text.
    """
    text = message.text or ""
    commands = message.parse_entities([MessageEntity.BOT_COMMAND])
    command = next((value for entity, value in commands.items() if entity.offset == 0), "")
    argument = _without(text.removeprefix(command), _our_mentions(message, bot)).strip()
    return argument or replied_question(message, bot)


def content(message: Message) -> str | None:
    """Return the text of a message, else its caption, else None."""
    return message.text if message.text is not None else message.caption


def replied_question(message: Message, bot: User) -> str:
    """Return the text (or caption) of the message replied to, unless it is ours, or ''."""
    replied = message.reply_to_message
    if replied is None or _replies_to(message, bot):
        return ""
    return (content(replied) or "").strip()


def _replies_to(message: Message, bot: User) -> bool:
    replied = message.reply_to_message
    return bool(replied and replied.from_user and replied.from_user.id == bot.id)


def _our_mentions(message: Message, bot: User) -> list[str]:
    """Return the texts of the entities that mention the bot (never other bots)."""
    if message.text is not None:
        entities = message.parse_entities(_MENTIONS)
    else:
        entities = message.parse_caption_entities(_MENTIONS)
    username = f"@{bot.username}".lower() if bot.username else None
    return [
        text
        for entity, text in entities.items()
        if (entity.type == MessageEntity.MENTION and text.lower() == username)
        or (entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot.id)
    ]


def _without(text: str, mentions: list[str]) -> str:
    for mention in mentions:
        text = re.sub(re.escape(mention) + _USERNAME_END, " ", text, flags=re.IGNORECASE)
    return text
