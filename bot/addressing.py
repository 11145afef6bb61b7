"""Is a message for us (private chat, our @mention, a reply to us, /ask), and what does it ask."""

from __future__ import annotations

import re
from dataclasses import dataclass

from telegram import Message, MessageEntity, User
from telegram.constants import ChatType

from index import normalize_text

_USERNAME_END = r"(?![A-Za-z0-9_])"


@dataclass(frozen=True)
class Question:
    """A cleaned question, and whether it was cut to ``MAX_QUESTION_CHARS``."""

    text: str
    truncated: bool = False


def question_for_us(message: Message, bot: User) -> str | None:
    """Return the text a message asks the bot, or None when the message is not for the bot.

    Private chats: the whole text. Groups: only when the message mentions the bot
    (``@username`` or a text mention) or replies to one of its messages; our mentions are
    removed from the question. Entities are read with ``parse_entities`` (UTF-16 offsets).
    """
    if not message.text:
        return None
    if message.chat.type == ChatType.PRIVATE:
        return message.text
    mentions = _our_mentions(message, bot)
    replied = message.reply_to_message
    if not mentions and not (replied and replied.from_user and replied.from_user.id == bot.id):
        return None
    return _without(message.text, mentions)


def command_argument(message: Message, bot: User) -> str:
    """Return the text after a leading ``/command`` or ``/command@bot``, our mentions removed."""
    text = message.text or ""
    commands = message.parse_entities([MessageEntity.BOT_COMMAND])
    command = next((value for entity, value in commands.items() if entity.offset == 0), "")
    return _without(text.removeprefix(command), _our_mentions(message, bot))


def clean_question(text: str, max_chars: int) -> Question:
    """Normalise whitespace and Unicode (NFC); cut to ``max_chars`` on whitespace if longer."""
    question = normalize_text(text)
    if len(question) <= max_chars:
        return Question(question)
    cut = question[: max_chars + 1].rsplit(" ", 1)[0] if " " in question[:max_chars] else ""
    return Question((cut or question[:max_chars]).strip(), truncated=True)


def _our_mentions(message: Message, bot: User) -> list[str]:
    """Return the texts of the entities that mention the bot (never other bots)."""
    entities = message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION])
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
