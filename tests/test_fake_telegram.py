"""The fake Bot API server, driven by a real PTB 22.8 Bot and Application over real HTTP."""

from __future__ import annotations

import asyncio
import datetime as dtm
import time
from collections.abc import AsyncIterator

import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Update,
)
from telegram.constants import ChatMemberStatus, MessageEntityType, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

from tests.fake_telegram import DROPPED, FakeTelegram, utf16_len

TOKEN = "123456:TEST"
BOT_ID = 123456


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=fake.base_url, base_file_url=fake.base_file_url) as client:
        yield client


@pytest.fixture
async def echo_app(fake: FakeTelegram) -> AsyncIterator[tuple[Application, list[dict]]]:
    """A minimal Application (not the project's) echoing text; records parse_entities()."""
    seen: list[dict] = []

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        seen.append({e.type: text for e, text in message.parse_entities().items()})
        await message.reply_text(message.text)

    app = ApplicationBuilder().token(TOKEN).base_url(fake.base_url).build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    async with app:
        await app.start()
        await app.updater.start_polling(timeout=1, poll_interval=0)
        yield app, seen
        await app.updater.stop()
        await app.stop()


def keyboard(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("Xem thêm", callback_data=data)]])


async def test_initialize_calls_get_me_and_reads_the_bot_from_the_token(
    fake: FakeTelegram, bot: Bot
) -> None:
    assert (bot.id, bot.username) == (BOT_ID, "rag_test_bot")
    assert bot.can_read_all_group_messages is True
    [call] = fake.calls_of("getMe")
    assert call.ok
    assert call.token == TOKEN
    assert call.result["is_bot"] is True


async def test_private_message_arrives_by_long_polling_and_is_echoed(
    fake: FakeTelegram, echo_app: tuple[Application, list[dict]]
) -> None:
    user = fake.add_user(111, "An")
    chat = fake.private_chat(user)
    await fake.user_says(chat, user, "123")
    [call] = await fake.wait_for("sendMessage", lambda c: c.params["chat_id"] == 111)
    assert call.ok
    assert call.params["text"] == "123"  # a string field is never JSON-decoded
    assert "reply_parameters" not in call.params  # reply_text() does not quote in private chats
    assert call.result["from"]["id"] == BOT_ID
    assert fake.calls_of("deleteWebhook")


async def test_mention_offsets_are_utf16_so_parse_entities_returns_the_username(
    fake: FakeTelegram, echo_app: tuple[Application, list[dict]]
) -> None:
    _, seen = echo_app
    group, user = fake.group_chat(-100777, "Nhóm hỏi đáp"), fake.add_user(222, "Bình")
    asked = await fake.user_says(group, user, "😀 @rag_test_bot phở Hà Nội ở đâu ngon?")
    assert asked["entities"] == [{"type": "mention", "offset": 3, "length": 13}]
    [call] = await fake.wait_for("sendMessage", lambda c: c.params["chat_id"] == -100777)
    assert seen == [{MessageEntityType.MENTION: "@rag_test_bot"}]
    assert call.params["reply_parameters"]["message_id"] == asked["message_id"]
    assert call.result["reply_to_message"]["message_id"] == asked["message_id"]


async def test_reply_in_a_forum_topic_stays_in_the_topic(
    fake: FakeTelegram, echo_app: tuple[Application, list[dict]]
) -> None:
    forum, user = fake.group_chat(-100888, "Diễn đàn", is_forum=True), fake.add_user(222, "Bình")
    await fake.user_says(forum, user, "@rag_test_bot tin mới?", message_thread_id=7)
    [call] = await fake.wait_for("sendMessage", lambda c: c.params["chat_id"] == -100888)
    assert call.params["message_thread_id"] == 7  # PTB copies it only if is_topic_message
    assert call.result["message_thread_id"] == 7


async def test_non_text_messages_and_allowed_updates(bot: Bot, fake: FakeTelegram) -> None:
    user = fake.add_user(111, "An")
    sticker = {"file_id": "s1", "file_unique_id": "u1", "width": 512, "height": 512}
    sticker |= {"is_animated": False, "is_video": False, "type": "regular"}
    await fake.user_sends(fake.private_chat(user), user, sticker=sticker)
    assert await bot.get_updates(timeout=0, allowed_updates=["callback_query"]) == ()
    [update] = await bot.get_updates(timeout=0, allowed_updates=["message"])
    assert update.message.sticker.file_id == "s1"
    assert update.message.text is None
    assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == ()


async def test_commands_and_mentions_get_telegram_entities(fake: FakeTelegram) -> None:
    group, user = fake.group_chat(-100777, "Nhóm"), fake.add_user(222, "Bình")
    command = await fake.user_says(group, user, "/reindex@rag_test_bot")
    assert command["entities"] == [{"type": "bot_command", "offset": 0, "length": 21}]
    text = "Chào 👋🏽 @other_bot và @rag_test_bot"
    mentions = (await fake.user_says(group, user, text))["entities"]
    assert [(e["offset"], e["length"]) for e in mentions] == [
        (utf16_len(text[: text.index("@o")]), 10),
        (utf16_len(text[: text.index("@r")]), 13),
    ]


async def test_reply_to_the_bot_carries_the_bot_message(fake: FakeTelegram, bot: Bot) -> None:
    group, user = fake.group_chat(-100777, "Nhóm"), fake.add_user(222, "Bình")
    sent = await bot.send_message(-100777, "Xin chào", message_thread_id=5)
    bot_message = fake.calls_of("sendMessage")[0].result
    assert sent.message_thread_id == 5
    asked = await fake.user_says(group, user, "còn gì nữa?", reply_to=bot_message)
    assert asked["reply_to_message"]["from"]["id"] == BOT_ID
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await bot.send_message(-100777, "x", reply_to_message_id=999)


async def test_bad_html_is_rejected_and_escaped_html_is_parsed(
    bot: Bot, fake: FakeTelegram
) -> None:
    fake.private_chat(fake.add_user(111, "An"))
    for bad in ("<foo>x</foo>", "1 < 2", "<b>x</i>", "<b>x", "a &nbsp; b"):
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(111, bad, parse_mode=ParseMode.HTML)
    ok = await bot.send_message(111, "<b>a &amp; 😀</b> <i>b</i>", parse_mode=ParseMode.HTML)
    assert ok.text == "a & 😀 b"
    assert [(e.type, e.offset, e.length) for e in ok.entities] == [
        (MessageEntityType.BOLD, 0, 6),  # the emoji is 2 UTF-16 units
        (MessageEntityType.ITALIC, 7, 1),
    ]


async def test_too_long_text_is_counted_in_utf16_after_parsing(
    bot: Bot, fake: FakeTelegram
) -> None:
    fake.private_chat(fake.add_user(111, "An"))
    await bot.send_message(111, "<b>" + "x" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    for too_long in ("x" * 4097, "😀" * 2049):
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await bot.send_message(111, too_long)


async def test_flood_control_surfaces_as_retry_after(
    bot: Bot, fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    fake.private_chat(fake.add_user(111, "An"))
    fake.fail_next("sendMessage", retry_after=3)
    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(111, "x")
    assert raised.value.retry_after == dtm.timedelta(seconds=3)
    await bot.send_message(111, "x")
    assert [(c.ok, c.error_code) for c in fake.calls_of("sendMessage")] == [
        (False, 429),
        (True, None),
    ]


async def test_edit_message_text_not_modified_and_not_found(bot: Bot, fake: FakeTelegram) -> None:
    fake.private_chat(fake.add_user(111, "An"))
    sent = await bot.send_message(111, "trang 1", reply_markup=keyboard("more:1"))
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text(
            "trang 1", 111, sent.message_id, reply_markup=keyboard("more:1")
        )
    edited = await bot.edit_message_text("trang 2", 111, sent.message_id)
    assert edited.text == "trang 2"
    assert edited.edit_date is not None
    assert edited.reply_markup is None
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", 111, 999)


async def test_button_click_and_answer_callback_query(bot: Bot, fake: FakeTelegram) -> None:
    user = fake.add_user(111, "An")
    fake.private_chat(user)
    await bot.send_message(111, "trang 1", reply_markup=keyboard("more:3fa2c1d0:1"))
    query_id = await fake.user_clicks(
        user, fake.calls_of("sendMessage")[0].result, "more:3fa2c1d0:1"
    )
    [update] = await bot.get_updates(timeout=0)
    assert update.callback_query.data == "more:3fa2c1d0:1"
    assert await bot.answer_callback_query(query_id)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query("cbq-unknown")


async def test_chat_member_statuses_parse_in_ptb(bot: Bot, fake: FakeTelegram) -> None:
    fake.group_chat(-100777, "Nhóm")
    for user_id, status in ((1, "administrator"), (2, "creator"), (3, "member")):
        fake.add_user(user_id, f"U{user_id}")
        if status != "member":
            fake.set_member(-100777, user_id, status)
        assert (await bot.get_chat_member(-100777, user_id)).status == status
    admin = await bot.get_chat_member(-100777, 1)
    assert admin.status == ChatMemberStatus.ADMINISTRATOR
    assert admin.can_delete_messages


async def test_unknown_chat_and_unknown_method_fail_loudly(bot: Bot, fake: FakeTelegram) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(-100999, "x")
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendNothing", api_kwargs={"chat_id": 1})
    assert fake.calls_of("sendNothing", lambda c: c.error_code == 404)
    assert TOKEN not in "".join(str(c) for c in fake.calls)


async def test_a_newer_poll_ends_the_parked_one_with_conflict(
    bot: Bot, fake: FakeTelegram
) -> None:
    parked = asyncio.create_task(bot.get_updates(timeout=10))
    await wait_until_parked(fake)
    async with Bot(
        TOKEN, base_url=fake.base_url
    ) as second_instance:  # a Bot polls on 1 connection
        assert await second_instance.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await parked


async def test_stop_is_fast_with_a_parked_poll(bot: Bot, fake: FakeTelegram) -> None:
    parked = asyncio.create_task(bot.get_updates(timeout=30))
    await wait_until_parked(fake)
    started = time.monotonic()
    await fake.stop()
    assert time.monotonic() - started < 2
    assert await parked == ()


async def test_wait_for_times_out_with_a_readable_dump(bot: Bot, fake: FakeTelegram) -> None:
    with pytest.raises(AssertionError, match=r"0/1 matching sendMessage(.|\n)*getMe \[ok\]"):
        await fake.wait_for("sendMessage", timeout=0.05)


async def wait_until_parked(fake: FakeTelegram) -> None:
    deadline = time.monotonic() + 2
    while not fake.parked_polls:
        assert time.monotonic() < deadline, "getUpdates never parked"
        await asyncio.sleep(0.005)


# ---------------------------------------------------------------- captions, edits, migrations,
# inline and guest queries (what the project's bot needs beyond text messages)


async def test_caption_edit_anonymous_admin_and_guest_updates_parse_in_ptb(
    bot: Bot, fake: FakeTelegram
) -> None:
    group, user = fake.group_chat(-100777, "Nhóm"), fake.add_user(222, "Bình")
    photo = await fake.user_captions(group, user, "😀 @rag_test_bot ảnh gì?")
    await fake.user_edits(photo, "@rag_test_bot ảnh này?")
    await fake.user_says(group, user, "/stats", sender_chat=group)
    await fake.guest_mention(
        {"id": -100888, "type": "group", "title": "Lạ"}, user, "@rag_test_bot"
    )
    captioned, edited, anonymous, guest = await bot.get_updates(timeout=0)
    assert captioned.message.parse_caption_entities() == {
        captioned.message.caption_entities[0]: "@rag_test_bot"
    }
    assert edited.edited_message.caption == "@rag_test_bot ảnh này?"
    assert edited.edited_message.message_id == captioned.message.message_id
    assert anonymous.message.sender_chat.id == -100777
    assert anonymous.message.from_user.username == "GroupAnonymousBot"
    assert guest.guest_message.guest_query_id
    assert guest.effective_message is guest.guest_message


async def test_a_migrated_group_refuses_messages_with_the_new_id(
    bot: Bot, fake: FakeTelegram
) -> None:
    group, user = fake.group_chat(-555, "Nhóm", type="group"), fake.add_user(222, "Bình")
    await fake.migrate_group(group, user, -100555)
    to_old, from_old = await bot.get_updates(timeout=0)
    assert to_old.message.migrate_to_chat_id == -100555
    assert from_old.message.migrate_from_chat_id == -555
    assert from_old.message.chat.id == -100555
    with pytest.raises(ChatMigrated) as raised:
        await bot.send_message(-555, "x")
    assert raised.value.new_chat_id == -100555


async def test_reply_to_a_deleted_message_fails_unless_sent_without_the_reply(
    bot: Bot, fake: FakeTelegram
) -> None:
    group, user = fake.group_chat(-100777, "Nhóm"), fake.add_user(222, "Bình")
    asked = await fake.user_says(group, user, "câu hỏi")
    fake.delete_message(asked)
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await bot.send_message(-100777, "x", reply_to_message_id=asked["message_id"])
    sent = await bot.send_message(
        -100777, "x", reply_to_message_id=asked["message_id"], allow_sending_without_reply=True
    )
    assert sent.reply_to_message is None


async def test_inline_and_guest_answers_are_validated_and_answered_once(
    bot: Bot, fake: FakeTelegram
) -> None:
    user = fake.add_user(222, "Bình")
    query_id = await fake.user_types_inline(user, "phở")
    guest = await fake.guest_mention({"id": 5, "type": "private", "first_name": "A"}, user, "hi")

    def article(result_id: str, text: str) -> InlineQueryResultArticle:
        content = InputTextMessageContent(text, parse_mode=ParseMode.HTML)
        return InlineQueryResultArticle(result_id, "Tiêu đề", content)

    with pytest.raises(BadRequest, match=r"(?i)result_id_duplicate"):
        await bot.answer_inline_query(query_id, [article("1", "a"), article("1", "b")])
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.answer_inline_query(query_id, [article("1", "<foo>")])
    assert await bot.answer_inline_query(query_id, [article("1", "<b>a</b>")])
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_inline_query(query_id, [article("1", "a")])
    sent = await bot.answer_guest_query(guest["guest_query_id"], article("1", "trả lời"))
    assert sent.inline_message_id
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_guest_query(guest["guest_query_id"], article("1", "lần hai"))


async def test_edit_reply_markup_of_the_bots_message(bot: Bot, fake: FakeTelegram) -> None:
    fake.private_chat(fake.add_user(111, "An"))
    sent = await bot.send_message(111, "trả lời", reply_markup=keyboard("vote:1:up"))
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(
            111, sent.message_id, reply_markup=keyboard("vote:1:up")
        )
    edited = await bot.edit_message_reply_markup(
        111, sent.message_id, reply_markup=keyboard("vote:1:down")
    )
    assert edited.reply_markup.inline_keyboard[0][0].callback_data == "vote:1:down"


# ---------------------------------------------------------------- injected faults


async def test_a_dropped_call_is_recorded_and_the_client_sees_a_network_error(
    fake: FakeTelegram, bot: Bot
) -> None:
    fake.drop_next("getMe")
    with pytest.raises(NetworkError):
        await bot.get_me()
    assert (fake.calls[-1].method, fake.calls[-1].description) == ("getMe", DROPPED)
    assert (await bot.get_me()).username == "rag_test_bot"


async def test_a_delayed_call_is_processed_at_once_and_answered_late(
    fake: FakeTelegram, bot: Bot
) -> None:
    user = fake.add_user(111, "An")
    fake.private_chat(user)
    fake.delay_next("sendMessage", 0.5)
    with pytest.raises(TimedOut):
        await bot.send_message(111, "xin chào", read_timeout=0.1)
    [delivered] = fake.calls_of("sendMessage")
    assert delivered.ok  # the message arrived, though the client gave up waiting


async def test_faults_in_a_row_and_a_flood_stretch(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.add_user(111, "An")
    fake.private_chat(user)
    fake.fail_next("sendChatAction", 502, times=2)
    for _ in range(2):
        with pytest.raises(NetworkError):
            await bot.send_chat_action(111, "typing")
    assert await bot.send_chat_action(111, "typing")
    fake.flood("sendChatAction", seconds=60, retry_after=3)
    with pytest.raises(RetryAfter):
        await bot.send_chat_action(111, "typing")
    assert [c.error_code for c in fake.calls_of("sendChatAction")] == [502, 502, None, 429]
