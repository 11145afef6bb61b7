"""Answering helpers: the typing indicator is renewed while work lasts and never blocks it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from telegram import Bot, Chat, Message

from bot.answering import typing
from tests.bot_fixtures import TOKEN
from tests.fake_telegram import FakeTelegram

pytest_plugins = ["tests.bot_fixtures"]


@pytest.fixture
async def message(fake: FakeTelegram) -> AsyncIterator[Message]:
    fake.private_chat(fake.add_user(111, "An"))
    async with Bot(TOKEN, base_url=fake.base_url) as bot:
        incoming = Message(1, datetime.now(UTC), Chat(111, Chat.PRIVATE))
        incoming.set_bot(bot)
        yield incoming


async def test_typing_is_renewed_while_the_work_lasts_then_stops(
    fake: FakeTelegram, message: Message
) -> None:
    async with typing(message, every_s=0.05):
        await fake.wait_for("sendChatAction", count=3)
    sent = len(fake.calls_of("sendChatAction"))
    assert all(
        c.params == {"chat_id": 111, "action": "typing"} for c in fake.calls_of("sendChatAction")
    )
    await asyncio.sleep(0.25)
    assert len(fake.calls_of("sendChatAction")) <= sent + 1  # at most one was in flight


async def test_a_failing_typing_action_does_not_stop_the_work(
    fake: FakeTelegram, message: Message
) -> None:
    fake.fail_next("sendChatAction", code=400, description="Bad Request: not enough rights")
    async with typing(message, every_s=10):
        await message.reply_text("vẫn trả lời")
    assert [c.ok for c in fake.calls_of("sendChatAction")] == [False]
    [sent] = fake.calls_of("sendMessage")
    assert sent.ok
    assert sent.params["text"] == "vẫn trả lời"
