"""Addressing: which messages are for the bot and what they ask (UTF-16 entity offsets)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from telegram import Chat, Message, MessageEntity, User

from bot.addressing import command_argument, question_for_us
from index import clean_question
from tests.fake_telegram import utf16_len

BOT = User(123456, "RAG Test Bot", is_bot=True, username="rag_test_bot")
HUMAN = User(222, "Bình", is_bot=False)
GROUP = Chat(-100777, Chat.SUPERGROUP, title="Nhóm")
PRIVATE = Chat(222, Chat.PRIVATE, first_name="Bình")


def entity(
    text: str, part: str, kind: str = MessageEntity.MENTION, **extra: object
) -> MessageEntity:
    start = text.rindex(part)
    return MessageEntity(kind, utf16_len(text[:start]), utf16_len(part), **extra)  # type: ignore[arg-type]


def message(
    text: str,
    entities: list[MessageEntity] = (),  # type: ignore[assignment]
    chat: Chat = GROUP,
    reply_to: Message | None = None,
) -> Message:
    return Message(
        1,
        datetime.now(UTC),
        chat,
        from_user=HUMAN,
        text=text,
        entities=entities,
        reply_to_message=reply_to,
    )


def test_every_private_text_is_a_question() -> None:
    assert question_for_us(message("phở ở đâu?", chat=PRIVATE), BOT) == "phở ở đâu?"


def test_mention_after_an_emoji_is_found_by_utf16_offsets_and_removed() -> None:
    text = "😀👍🏽 @rag_test_bot phở ở đâu?"
    asked = message(text, [entity(text, "@rag_test_bot")])
    assert question_for_us(asked, BOT) == "😀👍🏽   phở ở đâu?"


def test_mention_match_is_case_insensitive_and_other_bots_are_kept() -> None:
    text = "@other_bot @RAG_Test_Bot giá vàng?"
    asked = message(text, [entity(text, "@other_bot"), entity(text, "@RAG_Test_Bot")])
    assert question_for_us(asked, BOT) == "@other_bot   giá vàng?"


def test_text_mention_of_the_bot_counts() -> None:
    text = "Trợ lý ơi, giá vàng?"
    mention = entity(text, "Trợ lý", MessageEntity.TEXT_MENTION, user=BOT)
    assert question_for_us(message(text, [mention]), BOT) == "  ơi, giá vàng?"


@pytest.mark.parametrize(
    "text",
    ["giá vàng hôm nay?", "@other_bot giá vàng?", "@rag_test_bot2 giá vàng?"],
)
def test_group_messages_not_for_us_are_ignored(text: str) -> None:
    mentions = [entity(text, text.split()[0])] if text.startswith("@") else []
    assert question_for_us(message(text, mentions), BOT) is None


def test_reply_to_the_bot_is_a_question_and_reply_to_someone_else_is_not() -> None:
    ours = message("trả lời", reply_to=Message(5, datetime.now(UTC), GROUP, from_user=BOT))
    theirs = message("trả lời", reply_to=Message(6, datetime.now(UTC), GROUP, from_user=HUMAN))
    assert question_for_us(ours, BOT) == "trả lời"
    assert question_for_us(theirs, BOT) is None


def test_command_argument_drops_the_command_and_our_mention() -> None:
    text = "/ask@rag_test_bot  giá vàng @rag_test_bot?"
    asked = message(
        text,
        [
            entity(text, "/ask@rag_test_bot", MessageEntity.BOT_COMMAND),
            entity(text, "@rag_test_bot"),
        ],
    )
    assert command_argument(asked, BOT).split() == ["giá", "vàng", "?"]
    assert command_argument(message("/ask", [entity("/ask", "/ask", "bot_command")]), BOT) == ""


def test_clean_question_normalises_and_truncates_on_whitespace() -> None:
    decomposed = "Ha\u0300 No\u0302\u0323i\n\t  ở đâu"
    assert clean_question(decomposed, 100).text == "Hà Nội ở đâu"
    assert not clean_question(decomposed, 100).truncated
    cut = clean_question("một hai ba bốn năm", 10)
    assert (cut.text, cut.truncated) == ("một hai ba", True)
    hard = clean_question("x" * 30, 10)
    assert (hard.text, hard.truncated) == ("x" * 10, True)
