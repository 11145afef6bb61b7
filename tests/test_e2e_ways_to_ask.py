"""End to end, the everyday ways people ask: captions, edits, anonymous admins, upgraded groups,
replies to someone's question, deleted questions, inline mode and guest mode."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from bot import messages
from bot.app import BotApplication
from index import Searcher
from tests.bot_fixtures import (
    ADMIN_ID,
    PHO_YEN_QUESTION,
    bot_running,
    make_settings,
    sent_to,
)
from tests.fake_telegram import GROUP_ANONYMOUS_BOT, PHOTO, Call, FakeTelegram, parse_html

pytest_plugins = ["tests.bot_fixtures"]

DOCUMENT = {"document": {"file_id": "d1", "file_unique_id": "du1", "file_name": "tin.pdf"}}


def replying_to(message_id: int) -> Callable[[Call], bool]:
    return lambda call: call.ok and call.params["reply_parameters"]["message_id"] == message_id


async def settled(done: Callable[[], bool], timeout_s: float = 5) -> None:
    """Wait until the bot has handled what makes ``done()`` true."""
    async with asyncio.timeout(timeout_s):
        while not done():  # noqa: ASYNC110 - bot state has no event to wait on
            await asyncio.sleep(0.01)


# ---------------------------------------------------------------- 1. captions


async def test_private_photo_caption_is_answered_like_the_same_text(
    fake: FakeTelegram, running_bot: BotApplication
) -> None:
    user = fake.add_user(111, "An")
    chat = fake.private_chat(user)
    await fake.user_says(chat, user, PHO_YEN_QUESTION)
    [as_text] = await fake.wait_for("sendMessage", sent_to(111))
    await fake.user_captions(chat, user, PHO_YEN_QUESTION)
    [_, as_caption] = await fake.wait_for("sendMessage", sent_to(111), count=2)
    assert as_caption.params["text"] == as_text.params["text"]
    assert "25,872 tỷ USD" in as_caption.params["text"]


async def test_group_mention_in_a_document_caption_is_answered(
    fake: FakeTelegram, running_bot: BotApplication
) -> None:
    group, user = fake.group_chat(-100700, "Nhóm"), fake.add_user(222, "Bình")
    ignored = await fake.user_captions(group, user, "phở bò Hà Nội?", **DOCUMENT)
    asked = await fake.user_captions(group, user, "😀 @rag_test_bot phở bò Hà Nội?", **DOCUMENT)
    [call] = await fake.wait_for("sendMessage", sent_to(-100700, asked["message_id"]))
    assert "Phở Hà Nội" in call.params["text"]
    assert not fake.calls_of("sendMessage", replying_to(ignored["message_id"]))


async def test_photo_without_caption_still_gets_the_hint(
    fake: FakeTelegram, running_bot: BotApplication
) -> None:
    user = fake.add_user(111, "An")
    await fake.user_sends(fake.private_chat(user), user, photo=PHOTO)
    [call] = await fake.wait_for("sendMessage", sent_to(111))
    assert call.params["text"] == messages.NON_TEXT_HINT


# ---------------------------------------------------------------- 2. edits


async def test_group_message_edited_to_mention_the_bot_is_answered_once(
    fake: FakeTelegram, running_bot: BotApplication
) -> None:
    group, user = fake.group_chat(-100701, "Nhóm"), fake.add_user(222, "Bình")
    said = await fake.user_says(group, user, "phở bò Hà Nội thế nào?")
    edited = await fake.user_edits(said, "@rag_test_bot phở bò Hà Nội thế nào?")
    [answer] = await fake.wait_for("sendMessage", sent_to(-100701, said["message_id"]))
    assert "Phở Hà Nội" in answer.params["text"]
    await fake.user_edits(edited, "@rag_test_bot  phở bò Hà Nội thế nào? ")  # same question
    marker = await fake.user_says(group, user, "@rag_test_bot Huế mưa to không?")
    await fake.wait_for("sendMessage", sent_to(-100701, marker["message_id"]))
    assert len(fake.calls_of("sendMessage", replying_to(said["message_id"]))) == 1


async def test_private_question_corrected_by_editing_gets_a_new_answer(
    fake: FakeTelegram, running_bot: BotApplication
) -> None:
    user = fake.add_user(111, "An")
    asked = await fake.user_says(fake.private_chat(user), user, "Huế mưa to không?")
    [first] = await fake.wait_for("sendMessage", sent_to(111))
    await fake.user_edits(asked, "phở bò Hà Nội thế nào?")
    [_, second] = await fake.wait_for("sendMessage", sent_to(111), count=2)
    assert "Thời tiết Huế" in first.params["text"]
    assert "Phở Hà Nội" in second.params["text"]


# ---------------------------------------------------------------- 3. anonymous admins


@pytest.mark.parametrize(("allow", "allowed"), [("true", True), ("false", False)])
async def test_anonymous_group_admin_may_see_stats_only_with_allow_group_admins(
    fake: FakeTelegram,
    tiny_data: Path,
    built_index: Path,
    bot_searcher: Searcher,
    allow: str,
    allowed: bool,
) -> None:
    settings = make_settings(fake, tiny_data, built_index, ALLOW_GROUP_ADMINS=allow)
    group = fake.group_chat(-100702, "Nhóm")
    async with bot_running(settings, bot_searcher):
        asked = await fake.user_says(group, {}, "/stats@rag_test_bot", sender_chat=group)
        [call] = await fake.wait_for("sendMessage", sent_to(-100702, asked["message_id"]))
    assert asked["from"] == GROUP_ANONYMOUS_BOT
    assert call.params["text"].startswith("Thống kê:") is allowed
    assert (call.params["text"] == messages.NOT_ADMIN) is not allowed


async def test_a_channel_posting_in_a_group_is_not_an_admin(
    fake: FakeTelegram, tiny_data: Path, built_index: Path, bot_searcher: Searcher
) -> None:
    settings = make_settings(fake, tiny_data, built_index, ALLOW_GROUP_ADMINS="true")
    group = fake.group_chat(-100703, "Nhóm")
    channel = {"id": -100999, "type": "channel", "title": "Kênh"}
    async with bot_running(settings, bot_searcher):
        asked = await fake.user_says(group, {}, "/reindex@rag_test_bot", sender_chat=channel)
        [call] = await fake.wait_for("sendMessage", sent_to(-100703, asked["message_id"]))
    assert call.params["text"] == messages.NOT_ADMIN


# ---------------------------------------------------------------- 4. upgraded groups


async def test_upgraded_group_keeps_being_served_and_the_operator_is_warned(
    fake: FakeTelegram,
    tiny_data: Path,
    built_index: Path,
    bot_searcher: Searcher,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    settings = make_settings(fake, tiny_data, built_index, ALLOWED_CHAT_IDS="-555")
    group, user = fake.group_chat(-555, "Nhóm cũ", type="group"), fake.add_user(222, "Bình")
    async with bot_running(settings, bot_searcher) as app:
        supergroup = await fake.migrate_group(group, user, -100555)
        await settled(lambda: -100555 in app.bot_data.migrated)
        asked = await fake.user_says(supergroup, user, "@rag_test_bot phở bò Hà Nội?")
        [call] = await fake.wait_for("sendMessage", sent_to(-100555, asked["message_id"]))
    assert "Phở Hà Nội" in call.params["text"]
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "-555" in warning.getMessage()
    assert "-100555" in warning.getMessage()
    assert "ALLOWED_CHAT_IDS" in warning.getMessage()


async def test_upgraded_group_is_still_served_after_a_restart(
    fake: FakeTelegram, tiny_data: Path, built_index: Path, bot_searcher: Searcher
) -> None:
    settings = make_settings(fake, tiny_data, built_index, ALLOWED_CHAT_IDS="-556")
    group, user = fake.group_chat(-556, "Nhóm cũ", type="group"), fake.add_user(222, "Bình")
    async with bot_running(settings, bot_searcher) as app:
        supergroup = await fake.migrate_group(group, user, -100556)
        await settled(lambda: -100556 in app.bot_data.log.migrated_chats())
    async with bot_running(settings, bot_searcher):
        asked = await fake.user_says(supergroup, user, "@rag_test_bot phở bò Hà Nội?")
        [call] = await fake.wait_for("sendMessage", sent_to(-100556, asked["message_id"]))
    assert "Phở Hà Nội" in call.params["text"]


async def test_a_group_that_was_never_allowed_stays_refused_after_an_upgrade(
    fake: FakeTelegram, tiny_data: Path, built_index: Path, bot_searcher: Searcher
) -> None:
    settings = make_settings(fake, tiny_data, built_index, ALLOWED_CHAT_IDS="-100557")
    other, user = fake.group_chat(-558, "Khác", type="group"), fake.add_user(222, "Bình")
    allowed = fake.group_chat(-100557, "Được phép")
    async with bot_running(settings, bot_searcher):
        upgraded = await fake.migrate_group(other, user, -100558)
        await fake.user_says(upgraded, user, "@rag_test_bot phở bò?")
        asked = await fake.user_says(allowed, user, "@rag_test_bot phở bò?")
        await fake.wait_for("sendMessage", sent_to(-100557, asked["message_id"]))
    assert not fake.calls_of("sendMessage", lambda c: c.params["chat_id"] == -100558)


# ---------------------------------------------------------------- 5. bare mention as a reply


async def test_bare_mention_replying_to_someones_question_answers_that_question(
    fake: FakeTelegram, running_bot: BotApplication
) -> None:
    group = fake.group_chat(-100704, "Nhóm")
    asker, helper = fake.add_user(222, "Bình"), fake.add_user(333, "Chi")
    question = await fake.user_says(group, asker, "phở bò Hà Nội thế nào nhỉ?")
    bare = await fake.user_says(group, helper, "@rag_test_bot", reply_to=question)
    [call] = await fake.wait_for("sendMessage", sent_to(-100704, bare["message_id"]))
    assert "Phở Hà Nội" in call.params["text"]


async def test_bare_ask_replying_to_a_caption_answers_the_caption(
    fake: FakeTelegram, running_bot: BotApplication
) -> None:
    group = fake.group_chat(-100705, "Nhóm")
    asker, helper = fake.add_user(222, "Bình"), fake.add_user(333, "Chi")
    photo = await fake.user_captions(group, asker, "Huế mưa to không?")
    bare = await fake.user_says(group, helper, "/ask@rag_test_bot", reply_to=photo)
    [call] = await fake.wait_for("sendMessage", sent_to(-100705, bare["message_id"]))
    assert "Thời tiết Huế" in call.params["text"]


# ---------------------------------------------------------------- 6. deleted question


async def test_answer_to_a_deleted_question_is_still_posted_in_the_chat(
    fake: FakeTelegram, running_bot: BotApplication
) -> None:
    group, user = fake.group_chat(-100706, "Nhóm"), fake.add_user(222, "Bình")
    asked = await fake.user_says(group, user, "@rag_test_bot phở bò Hà Nội?")
    fake.delete_message(asked)  # by a moderator, before the bot answers
    [call] = await fake.wait_for("sendMessage", lambda c: c.params["chat_id"] == -100706)
    assert call.ok
    assert "Phở Hà Nội" in call.params["text"]
    assert "reply_to_message" not in call.result
    assert call.params["reply_parameters"]["allow_sending_without_reply"] is True


# ---------------------------------------------------------------- inline mode


def results_of(call: Call) -> list[dict]:
    return list(call.params["results"])


async def test_inline_query_shows_quoted_paragraphs_as_articles(
    fake: FakeTelegram, running_bot: BotApplication
) -> None:
    user = fake.add_user(111, "An")
    query_id = await fake.user_types_inline(user, PHO_YEN_QUESTION)
    [call] = await fake.wait_for("answerInlineQuery")
    assert call.ok
    assert call.params["inline_query_id"] == query_id
    [best, *_] = results_of(call)
    assert best["title"] == "Phổ Yên đạt nhiều kết quả năm 2023"
    assert best["description"].startswith("Năm 2023, giá trị xuất khẩu")
    content = best["input_message_content"]
    assert content["parse_mode"] == "HTML"
    visible, _ = parse_html(content["message_text"])
    assert "25,872 tỷ USD" in visible
    assert "VTC News" in visible
    assert 0 < call.params["cache_time"] <= 60


@pytest.mark.parametrize("query", ["", "xyz qwe"])
async def test_empty_or_unanswerable_inline_query_shows_one_hint(
    fake: FakeTelegram, running_bot: BotApplication, query: str
) -> None:
    await fake.user_types_inline(fake.add_user(111, "An"), query)
    [call] = await fake.wait_for("answerInlineQuery")
    [hint] = results_of(call)
    expected = messages.INLINE_EMPTY_TITLE if not query else messages.INLINE_NOT_FOUND_TITLE
    assert call.ok
    assert hint["title"] == expected


async def test_inline_queries_are_not_logged_as_answers(
    fake: FakeTelegram, running_bot: BotApplication
) -> None:
    await fake.user_types_inline(fake.add_user(111, "An"), "phở bò")
    await fake.wait_for("answerInlineQuery")
    assert running_bot.bot_data.log.query("SELECT COUNT(*) FROM answers") == [(0,)]


# ---------------------------------------------------------------- guest mode


async def test_guest_mention_is_answered_with_one_quote_through_answer_guest_query(
    fake: FakeTelegram, running_bot: BotApplication
) -> None:
    stranger_chat = {"id": -100800, "type": "supergroup", "title": "Nhóm lạ"}
    user = fake.add_user(222, "Bình")
    asked = await fake.guest_mention(stranger_chat, user, "@rag_test_bot phở bò Hà Nội?")
    [call] = await fake.wait_for("answerGuestQuery")
    assert call.ok
    assert call.params["guest_query_id"] == asked["guest_query_id"]
    result = call.params["result"]
    assert result["type"] == "article"
    visible, _ = parse_html(result["input_message_content"]["message_text"])
    assert "Phở bò Hà Nội nổi tiếng" in visible
    assert "rag_test_bot" not in visible
    assert not fake.calls_of("sendMessage")  # reply_text would fail: the bot is not a member


async def test_guest_mention_without_a_question_gets_the_usage_hint(
    fake: FakeTelegram, running_bot: BotApplication
) -> None:
    stranger_chat = {"id": 444, "type": "private", "first_name": "Dung"}
    await fake.guest_mention(stranger_chat, fake.add_user(222, "Bình"), "@rag_test_bot")
    [call] = await fake.wait_for("answerGuestQuery")
    assert call.params["result"]["title"] == messages.INLINE_EMPTY_TITLE


async def test_guest_question_of_an_admin_is_logged_and_counted(
    fake: FakeTelegram, running_bot: BotApplication
) -> None:
    stranger_chat = {"id": -100801, "type": "supergroup", "title": "Nhóm lạ"}
    await fake.guest_mention(stranger_chat, fake.add_user(222, "Bình"), "@rag_test_bot xyz qwe")
    [call] = await fake.wait_for("answerGuestQuery")
    assert call.params["result"]["title"] == messages.INLINE_NOT_FOUND_TITLE
    admin = fake.add_user(ADMIN_ID, "Admin")
    await fake.user_says(fake.private_chat(admin), admin, "/stats")
    [stats] = await fake.wait_for("sendMessage", sent_to(ADMIN_ID))
    assert "1. xyz qwe (1 lần)" in stats.params["text"]
