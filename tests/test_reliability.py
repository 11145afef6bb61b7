"""Telegram's faults end to end: retried, waited out, logged in one line, never a false apology.

Each test is a row of issue 11's table, against the fake Bot API (which fails, drops, delays
and floods calls on request). The last test is the reliability check.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from functools import partial
from pathlib import Path

import pytest
from telegram.ext import AIORateLimiter

from bot import messages
from bot.config import Settings
from bot.inbox import Inbox
from index import Searcher
from tests.bot_fixtures import (
    PHO_YEN_QUESTION,
    ask_privately,
    bot_running,
    make_settings,
    sent_to,
)
from tests.fake_telegram import DROPPED, Call, FakeTelegram

pytest_plugins = ["tests.bot_fixtures"]

QUESTIONS = (
    PHO_YEN_QUESTION,
    "phở bò Hà Nội ở đâu ngon?",
    "Huế mưa to không?",
    "giá cà phê hôm nay thế nào?",
    "đội tuyển bóng đá thắng mấy bàn?",
)
NO_THROTTLE = {"overall_max_rate": 0, "group_max_rate": 0, "max_retries": 0}


@pytest.fixture
def fast_retry(fake: FakeTelegram, tiny_data: Path, built_index: Path) -> Settings:
    """Settings whose retries wait 10 ms instead of 0.5 s (same rules, shorter waits)."""
    return make_settings(fake, tiny_data, built_index, TELEGRAM_RETRY_BACKOFF_S="0.01")


def answers(fake: FakeTelegram, chat_id: int) -> list[Call]:
    return fake.calls_of("sendMessage", sent_to(chat_id))


def apologies(fake: FakeTelegram) -> list[Call]:
    return fake.calls_of("sendMessage", lambda c: c.params["text"] == messages.INTERNAL_ERROR)


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_two_502s_on_the_answer_are_retried_and_it_arrives_once(
    fake: FakeTelegram,
    fast_retry: Settings,
    bot_searcher: Searcher,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake.fail_next("sendMessage", 502, description="Bad Gateway", times=2)
    async with bot_running(fast_retry, bot_searcher):
        await ask_privately(fake, PHO_YEN_QUESTION)
        await fake.wait_for("sendMessage", sent_to(111))
    [answer] = answers(fake, 111)
    assert "25,872 tỷ USD" in answer.params["text"]
    assert [c.error_code for c in fake.calls_of("sendMessage")] == [502, 502, None]
    assert not apologies(fake)
    assert not tracebacks(caplog)
    assert "retry 2 of 4" in caplog.text


async def test_a_dropped_connection_before_delivery_is_retried(
    fake: FakeTelegram, fast_retry: Settings, bot_searcher: Searcher
) -> None:
    fake.drop_next("sendMessage")
    async with bot_running(fast_retry, bot_searcher):
        await ask_privately(fake, PHO_YEN_QUESTION)
        await fake.wait_for("sendMessage", sent_to(111))
    assert [c.description for c in fake.calls_of("sendMessage") if not c.ok] == [DROPPED]
    assert len(answers(fake, 111)) == 1
    assert not apologies(fake)


async def test_four_429s_in_a_row_are_waited_out_as_telegram_says(
    fake: FakeTelegram, fast_retry: Settings, bot_searcher: Searcher
) -> None:
    fake.fail_next("sendMessage", 429, retry_after=1, times=4)
    async with bot_running(fast_retry, bot_searcher, AIORateLimiter(**NO_THROTTLE)):
        await ask_privately(fake, PHO_YEN_QUESTION)
        await fake.wait_for("sendMessage", sent_to(111), timeout=10)
    calls = fake.calls_of("sendMessage")
    assert [c.error_code for c in calls] == [429, 429, 429, 429, None]
    assert calls[-1].at - calls[0].at >= 4.0  # each retry_after honoured
    assert not apologies(fake)


async def test_a_stretch_of_429s_delays_twelve_answers_but_replaces_none(
    fake: FakeTelegram, fast_retry: Settings, bot_searcher: Searcher
) -> None:
    fake.flood("sendMessage", seconds=2.5, retry_after=1)
    async with bot_running(fast_retry, bot_searcher, AIORateLimiter(**NO_THROTTLE)):
        for user_id in range(1001, 1013):
            await ask_privately(fake, QUESTIONS[user_id % 5], user_id=user_id)
        await fake.wait_for("sendMessage", lambda c: c.ok, count=12, timeout=15)
    assert all(len(answers(fake, user_id)) == 1 for user_id in range(1001, 1013))
    assert len(fake.calls_of("sendMessage", lambda c: c.error_code == 429)) >= 12
    assert not apologies(fake)


async def test_an_answer_delivered_after_the_read_timeout_is_not_followed_by_an_apology(
    fake: FakeTelegram,
    tiny_data: Path,
    built_index: Path,
    bot_searcher: Searcher,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = make_settings(fake, tiny_data, built_index, TELEGRAM_READ_TIMEOUT_S="0.3")
    fake.delay_next("sendMessage", 1.0)
    async with bot_running(settings, bot_searcher):
        await ask_privately(fake, PHO_YEN_QUESTION)
        await fake.wait_for("sendMessage", sent_to(111))
        await ask_privately(fake, "phở bò Hà Nội?", user_id=222, name="Bình")
        await fake.wait_for("sendMessage", sent_to(222))
    # Leaving bot_running waited for every handler: an apology would have been sent by now.
    assert len(answers(fake, 111)) == 1
    assert not apologies(fake)
    [unknown] = [r for r in caplog.records if "delivery unknown" in r.getMessage()]
    assert unknown.levelno == logging.WARNING
    assert not tracebacks(caplog)


async def test_a_502_on_the_first_getme_is_retried_and_the_bot_starts(
    fake: FakeTelegram,
    fast_retry: Settings,
    bot_searcher: Searcher,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake.fail_next("getMe", 502, description="Bad Gateway")
    async with bot_running(fast_retry, bot_searcher):
        await ask_privately(fake, PHO_YEN_QUESTION)
        await fake.wait_for("sendMessage", sent_to(111))
    assert [c.ok for c in fake.calls_of("getMe")][:2] == [False, True]
    assert "Telegram getMe failed (HTTP 502); retry 1 of 4" in caplog.text
    assert not tracebacks(caplog)


async def test_getupdates_502_and_dropped_polls_are_one_warning_line_each(
    fake: FakeTelegram,
    fast_retry: Settings,
    bot_searcher: Searcher,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with bot_running(fast_retry, bot_searcher):
        fake.fail_next("getUpdates", 502, description="Bad Gateway")
        fake.drop_next("getUpdates")
        await ask_privately(fake, PHO_YEN_QUESTION)
        await fake.wait_for("sendMessage", sent_to(111), timeout=10)
    polling = [r for r in caplog.records if r.getMessage().startswith("polling:")]
    assert len(polling) == 2
    assert all(r.levelno == logging.WARNING for r in polling)
    assert not tracebacks(caplog)


async def test_a_callback_answer_refused_as_too_old_is_one_info_line(
    fake: FakeTelegram,
    fast_retry: Settings,
    bot_searcher: Searcher,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    async with bot_running(fast_retry, bot_searcher):
        user, _ = await ask_privately(fake, PHO_YEN_QUESTION)
        [answer] = await fake.wait_for("sendMessage", sent_to(111))
        data = answer.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        stale = {"id": "cbq-expired", "from": user, "chat_instance": "ci", "data": data}
        await fake.inject_update("callback_query", stale | {"message": answer.result})
        await fake.wait_for("answerCallbackQuery")
    [refused] = fake.calls_of("answerCallbackQuery")
    assert not refused.ok
    [line] = [r for r in caplog.records if r.name == "bot.errors"]
    assert line.levelno == logging.INFO
    assert "query is too old" in line.getMessage().lower()
    assert not tracebacks(caplog)


async def test_a_user_who_blocked_the_bot_costs_one_info_line_and_no_retry(
    fake: FakeTelegram,
    fast_retry: Settings,
    bot_searcher: Searcher,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    fake.fail_next("sendMessage", 403, description="Forbidden: bot was blocked by the user")
    async with bot_running(fast_retry, bot_searcher):
        await ask_privately(fake, PHO_YEN_QUESTION)
        await fake.wait_for("sendMessage")
    assert len(fake.calls_of("sendMessage")) == 1  # neither retried nor apologised
    [line] = [r for r in caplog.records if r.name == "bot.errors"]
    assert line.levelno == logging.INFO
    assert not tracebacks(caplog)


async def test_a_question_deleted_before_the_answer_still_gets_it(
    fake: FakeTelegram, fast_retry: Settings, bot_searcher: Searcher
) -> None:
    group, user = fake.group_chat(-100900, "Nhóm"), fake.add_user(222, "Bình")
    deleted = {"message_id": 77, "date": 1767225600, "chat": group, "from": user}
    text = "@rag_test_bot phở bò Hà Nội?"
    mention = {"type": "mention", "offset": 0, "length": 13}
    async with bot_running(fast_retry, bot_searcher):
        await fake.inject_update("message", deleted | {"text": text, "entities": [mention]})
        [answer] = await fake.wait_for("sendMessage", sent_to(-100900))
    assert answer.params["reply_parameters"]["allow_sending_without_reply"] is True
    assert not apologies(fake)


async def test_an_update_the_library_cannot_parse_is_skipped_and_the_next_is_answered(
    fake: FakeTelegram,
    fast_retry: Settings,
    bot_searcher: Searcher,
    caplog: pytest.LogCaptureFixture,
) -> None:
    user = fake.add_user(111, "An")
    chat = fake.private_chat(user)
    async with bot_running(fast_retry, bot_searcher):
        bad_id = await fake.inject_update("message", {"message_id": 5, "chat": chat})
        await fake.user_says(chat, user, PHO_YEN_QUESTION)
        [answer] = await fake.wait_for("sendMessage", sent_to(111))
    assert "25,872 tỷ USD" in answer.params["text"]
    skipped = [r for r in caplog.records if "cannot be parsed" in r.getMessage()]
    assert len(skipped) == 1
    assert str(bad_id) in skipped[0].getMessage()


async def test_a_question_received_before_a_crash_is_answered_once_after_the_restart(
    fake: FakeTelegram, fast_retry: Settings, bot_searcher: Searcher
) -> None:
    user = fake.add_user(111, "An")
    asked = await fake.user_says(fake.private_chat(user), user, PHO_YEN_QUESTION)
    [queued] = fake.queued  # Telegram resends it too: the crash came before the confirmation
    inbox = Inbox(fast_retry.answer_log)
    inbox.claim(queued["update_id"], _as_json(queued))
    inbox.close()
    async with bot_running(fast_retry, bot_searcher):
        await fake.wait_for("sendMessage", sent_to(111))
        await ask_privately(fake, "phở bò Hà Nội?", user_id=222, name="Bình")
        await fake.wait_for("sendMessage", sent_to(222))
    [answer] = answers(fake, 111)
    assert "25,872 tỷ USD" in answer.params["text"]
    assert asked["message_id"] == 1


async def test_a_question_older_than_the_inbox_limit_is_not_answered_after_a_restart(
    fake: FakeTelegram, fast_retry: Settings, bot_searcher: Searcher
) -> None:
    user = fake.add_user(111, "An")
    await fake.user_says(fake.private_chat(user), user, PHO_YEN_QUESTION)
    [queued] = fake.queued
    fake.queued.clear()  # confirmed to Telegram before the crash
    inbox = Inbox(fast_retry.answer_log)
    inbox.claim(queued["update_id"], _as_json(queued), now=0.0)  # received in 1970
    inbox.close()
    async with bot_running(fast_retry, bot_searcher):
        await ask_privately(fake, "phở bò Hà Nội?", user_id=222, name="Bình")
        await fake.wait_for("sendMessage", sent_to(222))
    assert not answers(fake, 111)


def _as_json(update: dict[str, object]) -> str:
    return json.dumps(update, ensure_ascii=False)


async def test_reliability_check_sixty_questions_through_faults_none_lost_or_doubled(
    fake: FakeTelegram, tiny_data: Path, built_index: Path, bot_searcher: Searcher
) -> None:
    settings = make_settings(
        fake,
        tiny_data,
        built_index,
        TELEGRAM_RETRY_BACKOFF_S="0.01",
        TELEGRAM_RETRIES="10",
        TELEGRAM_READ_TIMEOUT_S="1",
    )
    waves = {
        "5xx bursts": lambda: fake.fail_next("sendMessage", 502, times=8),
        "429 stretch": lambda: fake.flood("sendMessage", seconds=1.5),
        "slow answers": lambda: (
            fake.delay_next("sendMessage", 0.3, times=10),
            fake.delay_next("sendMessage", 1.5, times=2),  # later than the read timeout
        ),
        "dropped connections": lambda: (
            fake.drop_next("sendMessage", times=8),
            fake.drop_next("sendChatAction", times=3),
            fake.drop_next("getUpdates"),
            fake.fail_next("getUpdates", 502),
        ),
    }
    users = iter(range(2001, 2061))
    async with bot_running(settings, bot_searcher, AIORateLimiter(**NO_THROTTLE)):
        for inject in waves.values():
            inject()
            wave = [next(users) for _ in range(15)]
            for user_id in wave:
                await ask_privately(fake, QUESTIONS[user_id % 5], user_id=user_id)
            answered = partial(sent_to_any, chat_ids=wave)
            await fake.wait_for("sendMessage", answered, 15, timeout=20)
    per_chat = Counter(c.params["chat_id"] for c in fake.calls_of("sendMessage", lambda c: c.ok))
    asked = range(2001, 2061)
    lost = sum(1 for chat_id in asked if per_chat[chat_id] == 0)
    duplicated = sum(1 for chat_id in asked if per_chat[chat_id] > 1)
    faults = Counter(c.error_code or "dropped" for c in fake.calls if not c.ok)
    print(
        f"\nreliability: {len(asked)} questions, {sum(per_chat.values())} answers, lost {lost}, "
        f"duplicated {duplicated}, apologies {len(apologies(fake))}; faults {dict(faults)}"
    )
    assert (lost, duplicated, len(apologies(fake))) == (0, 0, 0)
    assert faults[502] >= 9 and faults[429] >= 1 and faults["dropped"] >= 12


def sent_to_any(call: Call, chat_ids: list[int]) -> bool:
    return call.ok and call.params["chat_id"] in chat_ids
