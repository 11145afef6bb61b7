"""End to end: the real Application over real HTTP against the fake Bot API server."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from bot import messages
from bot.app import BotApplication
from bot.formatting import utf16_len
from index import Searcher, build_index
from tests.bot_fixtures import (
    ADMIN_ID,
    BOT_ID,
    EVERY_CHUNK,
    PHO_YEN_QUESTION,
    ask_privately,
    bot_running,
    buttons,
    load_searcher,
    make_settings,
    sent_to,
    with_keyboard,
)
from tests.conftest import FakeEmbedder
from tests.fake_telegram import FakeTelegram, parse_html

pytest_plugins = ["tests.bot_fixtures"]

STICKER = {
    "file_id": "s1",
    "file_unique_id": "u1",
    "width": 512,
    "height": 512,
    "is_animated": False,
    "is_video": False,
    "type": "regular",
}


async def test_startup_registers_the_command_menu_and_polls(
    fake: FakeTelegram, running_bot: BotApplication
) -> None:
    [default] = fake.calls_of("setMyCommands", lambda c: "scope" not in c.params)
    names = [command["command"] for command in default.params["commands"]]
    assert names == [name for name, _ in messages.COMMANDS]
    [admin] = fake.calls_of("setMyCommands", lambda c: c.params["scope"]["chat_id"] == ADMIN_ID)
    assert "reindex" in [command["command"] for command in admin.params["commands"]]
    assert fake.calls_of("getMe")
    assert fake.calls_of("deleteWebhook")


async def test_privacy_mode_is_warned_about_at_start(
    tiny_data: Path,
    built_index: Path,
    bot_searcher: Searcher,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    caplog.set_level(logging.INFO, logger="bot")
    for can_read, warned in ((True, False), (False, True)):
        caplog.clear()
        async with FakeTelegram(can_read_all_group_messages=can_read) as server:
            settings = make_settings(server, tiny_data, built_index)
            async with bot_running(settings, bot_searcher):
                pass
        assert ("privacy mode is on" in caplog.text) is warned
        assert "bot @rag_test_bot ready: 8 chunks of 5 articles" in caplog.text


async def test_private_question_is_answered_with_a_quote_from_the_right_article(
    fake: FakeTelegram, running_bot: BotApplication
) -> None:
    await ask_privately(fake, PHO_YEN_QUESTION)
    [call] = await fake.wait_for("sendMessage", sent_to(111))
    text = call.params["text"]
    assert call.params["parse_mode"] == "HTML"
    assert "reply_parameters" not in call.params  # no quoting in a private chat
    assert call.result["from"]["id"] == BOT_ID
    first = text.split("\n\n")[0]
    assert first.startswith("<b>1. Phổ Yên đạt nhiều kết quả năm 2023</b>\n")
    assert '<a href="https://vtc.vn/pho-yen">VTC News</a>' in first
    assert "13/12/2023" in first
    assert "đoạn 1" in first
    assert re.search(r"<blockquote>.*25,872 tỷ USD.*</blockquote>", first)
    assert "<b>giá trị xuất khẩu</b>" in first
    visible, entities = parse_html(text)
    assert "25,872 tỷ USD" in visible
    assert {"blockquote", "bold", "text_link"} <= {entity["type"] for entity in entities}
    [typing] = fake.calls_of("sendChatAction")
    assert typing.params["action"] == "typing"
    assert typing.at <= call.at
    assert set(buttons(call)) == {messages.BUTTON_NEXT, messages.BUTTON_UP, messages.BUTTON_DOWN}


async def test_question_with_nothing_relevant_gets_the_not_found_hint(
    fake: FakeTelegram, running_bot: BotApplication
) -> None:
    await ask_privately(fake, "xyz qwe")
    [call] = await fake.wait_for("sendMessage", sent_to(111))
    assert call.params["text"] == messages.NOT_FOUND
    assert "reply_markup" not in call.params


async def test_group_mention_after_an_emoji_is_answered_in_reply_without_the_mention(
    fake: FakeTelegram, running_bot: BotApplication, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="index")
    group, user = fake.group_chat(-100777, "Nhóm hỏi đáp"), fake.add_user(222, "Bình")
    asked = await fake.user_says(group, user, "😀 @rag_test_bot phở bò Hà Nội thế nào?")
    [call] = await fake.wait_for("sendMessage", sent_to(-100777, asked["message_id"]))
    assert "Phở Hà Nội" in call.params["text"]
    assert "<blockquote><b>Phở bò Hà Nội" in call.params["text"]
    [logged] = [r.getMessage() for r in caplog.records if "question text" in r.getMessage()]
    assert "rag_test_bot" not in logged
    assert "phở bò Hà Nội thế nào?" in logged


async def test_reply_to_the_bot_in_a_group_is_answered(
    fake: FakeTelegram, running_bot: BotApplication
) -> None:
    group, user = fake.group_chat(-100778, "Nhóm"), fake.add_user(222, "Bình")
    first = await fake.user_says(group, user, "@rag_test_bot phở bò Hà Nội?")
    [answer] = await fake.wait_for("sendMessage", sent_to(-100778, first["message_id"]))
    follow_up = await fake.user_says(group, user, "Huế mưa to không?", reply_to=answer.result)
    [call] = await fake.wait_for("sendMessage", sent_to(-100778, follow_up["message_id"]))
    assert "Thời tiết Huế" in call.params["text"]


async def test_group_chatter_and_other_bots_mentions_and_commands_are_ignored(
    fake: FakeTelegram, running_bot: BotApplication
) -> None:
    group, user = fake.group_chat(-100779, "Nhóm"), fake.add_user(222, "Bình")
    ignored = [
        await fake.user_says(group, user, "phở bò Hà Nội ngon không?"),
        await fake.user_says(group, user, "@other_bot phở bò Hà Nội?"),
        await fake.user_says(group, user, "/ask@other_bot phở bò Hà Nội?"),
        await fake.user_says(group, user, "/help@other_bot"),
        await fake.user_says(group, user, "@rag_test_bot2 phở bò?"),
    ]
    asked = await fake.user_says(group, user, "/ask@rag_test_bot phở bò Hà Nội?")
    [call] = await fake.wait_for("sendMessage", sent_to(-100779, asked["message_id"]))
    assert "Phở Hà Nội" in call.params["text"]
    replied = {c.params["reply_parameters"]["message_id"] for c in fake.calls_of("sendMessage")}
    assert replied == {asked["message_id"]}
    assert not {m["message_id"] for m in ignored} & replied
    assert len(fake.calls_of("sendChatAction")) == 1


async def test_ask_without_a_question_explains_the_usage(
    fake: FakeTelegram, running_bot: BotApplication
) -> None:
    group, user = fake.group_chat(-100780, "Nhóm"), fake.add_user(222, "Bình")
    asked = await fake.user_says(group, user, "/ask@rag_test_bot")
    [call] = await fake.wait_for("sendMessage", sent_to(-100780, asked["message_id"]))
    assert call.params["text"].startswith("Cách dùng: /ask")
    mention_only = await fake.user_says(group, user, "@rag_test_bot")
    [call] = await fake.wait_for("sendMessage", sent_to(-100780, mention_only["message_id"]))
    assert call.params["text"].startswith("Bạn muốn hỏi gì?")


async def test_answer_in_a_forum_topic_stays_in_the_topic(
    fake: FakeTelegram, running_bot: BotApplication
) -> None:
    forum, user = fake.group_chat(-100781, "Diễn đàn", is_forum=True), fake.add_user(222, "Bình")
    asked = await fake.user_says(forum, user, "@rag_test_bot phở bò?", message_thread_id=7)
    [call] = await fake.wait_for("sendMessage", sent_to(-100781, asked["message_id"]))
    assert call.params["message_thread_id"] == 7
    assert fake.calls_of("sendChatAction")[0].params["message_thread_id"] == 7


async def test_start_and_help_list_commands_and_example_questions(
    fake: FakeTelegram, running_bot: BotApplication
) -> None:
    user, _ = await ask_privately(fake, "/start")
    [start] = await fake.wait_for("sendMessage", sent_to(111))
    await fake.user_says(fake.private_chat(user), user, "/help")
    [_, help_call] = await fake.wait_for("sendMessage", sent_to(111), count=2)
    for call in (start, help_call):
        visible, _ = parse_html(call.params["text"])
        assert "Giá trị xuất khẩu của Phổ Yên năm 2023 là bao nhiêu?" in visible
        assert "/ask" in visible
        assert "/reindex" in visible
        assert "@rag_test_bot" in visible
    assert parse_html(start.params["text"])[0].startswith("Xin chào!")


async def test_sticker_and_unknown_command_in_private_get_a_hint(
    fake: FakeTelegram, running_bot: BotApplication
) -> None:
    user = fake.add_user(111, "An")
    await fake.user_sends(fake.private_chat(user), user, sticker=STICKER)
    [call] = await fake.wait_for("sendMessage", sent_to(111))
    assert call.params["text"] == messages.NON_TEXT_HINT
    await fake.user_says(fake.private_chat(user), user, "/foo")
    [_, call] = await fake.wait_for("sendMessage", sent_to(111), count=2)
    assert call.params["text"] == messages.UNKNOWN_COMMAND


async def test_show_more_answers_the_callback_and_sends_the_next_results(
    fake: FakeTelegram, tiny_data: Path, built_index: Path
) -> None:
    settings = make_settings(fake, tiny_data, built_index, TOP_K="2")
    async with bot_running(settings, load_searcher(built_index, search_settings=EVERY_CHUNK)):
        user, _ = await ask_privately(fake, "phở bò Hà Nội")
        [first] = await fake.wait_for("sendMessage", sent_to(111))
        assert first.params["text"].startswith("<b>1. Phở Hà Nội</b>")
        more = buttons(first)[messages.BUTTON_MORE]
        query_id = await fake.user_clicks(user, first.result, more)
        [answered] = await fake.wait_for("answerCallbackQuery")
        assert answered.params["callback_query_id"] == query_id
        [_, second] = await fake.wait_for("sendMessage", sent_to(111), count=2)
        assert second.params["text"].startswith("<b>3. ")
        assert "<b>1. " not in second.params["text"]
        await fake.user_clicks(user, first.result, more)  # pressed again: already shown
        [_, again] = await fake.wait_for("answerCallbackQuery", count=2)
        assert again.params["text"] == messages.ALREADY_SHOWN
        assert len(fake.calls_of("sendMessage")) == 2


async def test_an_answer_quotes_three_paragraphs_by_default(
    fake: FakeTelegram, tiny_data: Path, built_index: Path
) -> None:
    settings = make_settings(fake, tiny_data, built_index)  # TOP_K not set
    async with bot_running(settings, load_searcher(built_index, search_settings=EVERY_CHUNK)):
        await ask_privately(fake, "phở bò Hà Nội")
        [answer] = await fake.wait_for("sendMessage", sent_to(111))
    assert answer.params["text"].count("</blockquote>") == 3
    assert messages.BUTTON_MORE in buttons(answer)


async def test_next_paragraph_button_quotes_the_following_paragraph(
    fake: FakeTelegram, running_bot: BotApplication
) -> None:
    user, _ = await ask_privately(fake, PHO_YEN_QUESTION)
    [first] = await fake.wait_for("sendMessage", sent_to(111))
    await fake.user_clicks(user, first.result, buttons(first)[messages.BUTTON_NEXT])
    [_, following] = await fake.wait_for("sendMessage", sent_to(111), count=2)
    text = following.params["text"]
    assert text.startswith("<b>Phổ Yên đạt nhiều kết quả năm 2023</b>\n")  # not numbered
    assert "đoạn 2" in text
    assert "Thu ngân sách trên địa bàn đạt gần 7.000 tỷ đồng" in text
    [answered] = await fake.wait_for("answerCallbackQuery")
    assert "text" not in answered.params
    assert "reply_markup" not in following.params  # the last paragraph of the article


async def test_long_answer_is_split_between_quotes_with_the_keyboard_last(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    data = tmp_path / "long"
    data.mkdir()
    for n in range(6):
        sentences = " ".join(f"Câu {i} về phở bò & <nước dùng> số {n}." for i in range(22))
        article = f"title: Phở {n}\n\n{sentences}\n\nĐoạn cuối.\n"
        (data / f"pho-{n}.md").write_text(article, encoding="utf-8")
    build_index(data, tmp_path / "long-index", FakeEmbedder())
    searcher = load_searcher(tmp_path / "long-index", search_settings=EVERY_CHUNK)
    settings = make_settings(fake, data, tmp_path / "long-index", TOP_K="6")
    async with bot_running(settings, searcher):
        await ask_privately(fake, "phở bò nước dùng")
        [last] = await fake.wait_for("sendMessage", lambda c: sent_to(111)(c) and with_keyboard(c))
    parts = fake.calls_of("sendMessage", sent_to(111))
    assert len(parts) >= 2
    assert parts[-1] is last
    assert all("reply_markup" not in part.params for part in parts[:-1])
    for part in parts:
        assert utf16_len(part.params["text"]) <= 4096
        assert part.params["text"].startswith("<b>")
        assert part.params["text"].count("<blockquote expandable>") == part.params["text"].count(
            "</blockquote>"
        )
    quoted = "".join(part.params["text"] for part in parts)
    assert [int(n) for n in re.findall(r"<b>(\d)\. Phở", quoted)] == [1, 2, 3, 4, 5, 6]
    assert "&amp; &lt;<b>nước dùng</b>&gt;" in quoted


async def test_too_long_question_is_truncated_with_a_note(
    fake: FakeTelegram, tiny_data: Path, built_index: Path, bot_searcher: Searcher
) -> None:
    settings = make_settings(fake, tiny_data, built_index, MAX_QUESTION_CHARS="20")
    async with bot_running(settings, bot_searcher):
        await ask_privately(fake, "phở bò Hà Nội " + "rất ngon " * 50)
        [call] = await fake.wait_for("sendMessage", sent_to(111))
    note = messages.QUESTION_TRUNCATED.format(max_chars=20)
    assert call.params["text"].startswith(f"<i>{note}</i>\n\n<b>1. Phở Hà Nội</b>")


async def test_rate_limit_warns_once_then_stays_quiet(
    fake: FakeTelegram, tiny_data: Path, built_index: Path, bot_searcher: Searcher
) -> None:
    settings = make_settings(fake, tiny_data, built_index, RATE_LIMIT_PER_MINUTE="2")
    async with bot_running(settings, bot_searcher):
        user = fake.add_user(111, "An")
        chat = fake.private_chat(user)
        for _ in range(4):
            await fake.user_says(chat, user, "phở bò?")
        await fake.wait_for("sendMessage", sent_to(111), count=3)
        await ask_privately(fake, "phở bò?", user_id=112, name="Bảo")  # others still served
        await fake.wait_for("sendMessage", sent_to(112))
    texts = [call.params["text"] for call in fake.calls_of("sendMessage", sent_to(111))]
    assert texts.count(messages.RATE_LIMITED.format(limit=2)) == 1
    assert len(texts) == 3


async def test_allowed_chat_ids_limit_who_is_answered(
    fake: FakeTelegram, tiny_data: Path, built_index: Path, bot_searcher: Searcher
) -> None:
    settings = make_settings(fake, tiny_data, built_index, ALLOWED_CHAT_IDS="-100555,333")
    async with bot_running(settings, bot_searcher):
        stranger = fake.add_user(222, "Bình")
        allowed, other = fake.group_chat(-100555, "Được phép"), fake.group_chat(-100666, "Khác")
        await fake.user_says(other, stranger, "@rag_test_bot phở bò?")
        asked = await fake.user_says(allowed, stranger, "@rag_test_bot phở bò?")
        await fake.wait_for("sendMessage", sent_to(-100555, asked["message_id"]))
        await ask_privately(fake, "phở bò?", user_id=222, name="Bình")
        [refused] = await fake.wait_for("sendMessage", sent_to(222))
        await ask_privately(fake, "phở bò?", user_id=333, name="Chi")
        await fake.wait_for("sendMessage", sent_to(333))
        await ask_privately(fake, "phở bò?", user_id=ADMIN_ID, name="Admin")
        await fake.wait_for("sendMessage", sent_to(ADMIN_ID))
    assert refused.params["text"] == messages.NOT_ALLOWED
    assert not fake.calls_of("sendMessage", sent_to(-100666))
