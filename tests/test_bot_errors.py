"""Failures end to end: the error handler, flood control (429) and the token kept out of logs."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from telegram.ext import AIORateLimiter

from bot import messages
from bot.__main__ import NOISY_LOGGERS, REDACTED, RedactingFormatter, quiet_libraries
from bot.app import BotApplication
from bot.config import Settings
from index import Searcher
from tests.bot_fixtures import (
    PHO_YEN_QUESTION,
    TOKEN,
    BrokenEmbedder,
    ask_privately,
    bot_running,
    buttons,
    load_searcher,
    sent_to,
)
from tests.fake_telegram import FakeTelegram

pytest_plugins = ["tests.bot_fixtures"]


@pytest.fixture
def quiet_like_main() -> Iterator[None]:
    """Apply python -m bot's logger levels for one test, then restore them."""
    saved = {name: logging.getLogger(name).level for name in NOISY_LOGGERS}
    quiet_libraries()
    yield
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


async def test_unexpected_exception_is_logged_and_the_user_gets_a_generic_reply(
    fake: FakeTelegram, settings: Settings, built_index: Path, caplog: pytest.LogCaptureFixture
) -> None:
    searcher = load_searcher(built_index, BrokenEmbedder())
    async with bot_running(settings, searcher):
        await ask_privately(fake, "boom phở bò?")
        [call] = await fake.wait_for("sendMessage", sent_to(111))
        await ask_privately(fake, "phở bò?", user_id=222, name="Bình")
        [still] = await fake.wait_for("sendMessage", sent_to(222))
    assert call.params["text"] == messages.INTERNAL_ERROR
    assert "Phở Hà Nội" in still.params["text"]
    [record] = [r for r in caplog.records if r.name == "bot.errors"]
    assert record.levelno == logging.ERROR
    assert record.exc_info
    assert isinstance(record.exc_info[1], RuntimeError)
    assert "simulated" not in call.params["text"]


async def test_flood_control_is_waited_out_and_the_answer_arrives_once(
    fake: FakeTelegram, settings: Settings, bot_searcher: Searcher
) -> None:
    fake.fail_next("sendMessage", retry_after=1)
    async with bot_running(settings, bot_searcher, AIORateLimiter(max_retries=1)):
        await ask_privately(fake, PHO_YEN_QUESTION)
        await fake.wait_for("sendMessage", sent_to(111))
    calls = fake.calls_of("sendMessage")
    assert [(c.ok, c.error_code) for c in calls] == [(False, 429), (True, None)]
    assert calls[1].at - calls[0].at >= 1.0
    assert "25,872 tỷ USD" in calls[1].params["text"]


async def test_token_never_reaches_the_logs_even_at_debug(
    fake: FakeTelegram,
    running_bot: BotApplication,
    caplog: pytest.LogCaptureFixture,
    quiet_like_main: None,
) -> None:
    caplog.set_level(logging.DEBUG)
    user, _ = await ask_privately(fake, PHO_YEN_QUESTION)
    [answer] = await fake.wait_for("sendMessage", sent_to(111))
    await fake.user_clicks(user, answer.result, buttons(answer)[messages.BUTTON_NEXT])
    await fake.wait_for("answerCallbackQuery")
    await ask_privately(fake, "/reindex", user_id=222, name="Bình")
    await fake.wait_for("sendMessage", sent_to(222))
    logged = "\n".join(caplog.handler.format(record) for record in caplog.records)
    assert "getUpdates" in logged
    assert "sendMessage" in logged
    assert TOKEN not in logged


def test_redacting_formatter_hides_the_token_in_messages_and_tracebacks() -> None:
    formatter = RedactingFormatter("%(message)s", [TOKEN, ""])
    try:
        raise RuntimeError(f"url http://x/bot{TOKEN}/getMe")
    except RuntimeError as exc:
        record = logging.LogRecord(
            "t", logging.ERROR, "", 0, "got %s", (TOKEN,), (type(exc), exc, exc.__traceback__)
        )
    text = formatter.format(record)
    assert TOKEN not in text
    assert text.count(REDACTED) == 2
