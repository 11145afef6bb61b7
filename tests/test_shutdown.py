"""Crashes and shutdowns: questions in flight survive SIGKILL; SIGTERM stops /reindex at once.

The process tests run the production ``run()`` through tests/launch_bot.py (FakeEmbedder, no
model), slowed down by its test knobs so that work is in flight when the signal arrives.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from bot import messages
from tests.bot_fixtures import (
    ADMIN_ID,
    PHO_YEN_QUESTION,
    TOKEN,
    SlowEmbedder,
    ask_privately,
    bot_running,
    environment,
    load_searcher,
    make_settings,
    sent_to,
)
from tests.conftest import REPO
from tests.fake_telegram import Call, FakeTelegram
from tests.test_process import MODEL_CACHE, bot_process

pytest_plugins = ["tests.bot_fixtures"]

# The bound: SIGTERM during a /reindex ends the process, with code 0, within 5 s.
STOP_BOUND_S = 5.0
# /reindex embeds only what changed: a new article gives it something slow to do.
NEW_ARTICLE = "title: Cầu mới\n\nCầu Bến Thủy 3 được khởi công.\n\nCầu dài 1,2 km.\n"
QUESTIONS = (
    PHO_YEN_QUESTION,
    "phở bò Hà Nội ở đâu ngon?",
    "Huế mưa to không?",
    "giá cà phê hôm nay thế nào?",
    "đội tuyển bóng đá thắng mấy bàn?",
    "Sông Công thu nhập bình quân bao nhiêu?",
)


def progress_shown(call: Call) -> bool:
    return call.ok and "đã xử lý" in call.params["text"]


def interrupted(call: Call) -> bool:
    return call.ok and call.params["text"] == messages.REINDEX_INTERRUPTED


def launch_env(fake: FakeTelegram, data: Path, tmp_path: Path, **extra: str) -> dict[str, str]:
    return dict(
        environment(
            PYTHONPATH=str(REPO),
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE_URL=fake.base_url,
            DATA_DIR=str(data),
            INDEX_DIR=str(tmp_path / "index"),
            EMBEDDING_CACHE=str(tmp_path / "cache.sqlite"),
            ANSWER_LOG=str(tmp_path / "answers.sqlite"),
            ADMIN_IDS=str(ADMIN_ID),
            TELEGRAM_RETRY_BACKOFF_S="0.05",
            **extra,
        )
    )


async def test_stopping_during_reindex_interrupts_it_and_keeps_the_old_index(
    fake: FakeTelegram, tiny_data: Path, built_index: Path, tmp_path: Path
) -> None:
    settings = make_settings(
        fake, tiny_data, built_index, EMBEDDING_CACHE=str(tmp_path / "fresh.sqlite")
    )
    manifest = (built_index / "manifest.json").read_text(encoding="utf-8")
    (tiny_data / "new.md").write_text(NEW_ARTICLE, encoding="utf-8")  # embedded slowly
    searcher = load_searcher(built_index, SlowEmbedder(delay_s=0.3))
    async with bot_running(settings, searcher, progress_interval_s=0.1):
        await ask_privately(fake, "/reindex", user_id=ADMIN_ID, name="Admin")
        await fake.wait_for("editMessageText", progress_shown, timeout=10)
    [last] = fake.calls_of("editMessageText")[-1:]
    assert last.params["text"] == messages.REINDEX_INTERRUPTED
    assert (built_index / "manifest.json").read_text(encoding="utf-8") == manifest
    assert sorted(p.name for p in built_index.parent.iterdir() if p.name.startswith(".")) == []


async def test_sigterm_during_reindex_edits_the_progress_and_exits_0_within_5_s(
    fake: FakeTelegram, tiny_data: Path, tmp_path: Path
) -> None:
    env = launch_env(fake, tiny_data, tmp_path, TEST_EMBED_DELAY_S="2")
    async with bot_process(["-m", "tests.launch_bot"], env, REPO, tmp_path / "bot.log") as bot:
        await fake.wait_for("deleteWebhook", timeout=60)
        (tiny_data / "new.md").write_text(NEW_ARTICLE, encoding="utf-8")  # embedded slowly
        await ask_privately(fake, "/reindex", user_id=ADMIN_ID, name="Admin")
        await fake.wait_for("editMessageText", progress_shown, timeout=30)
        bot.send_signal(signal.SIGTERM)
        async with asyncio.timeout(STOP_BOUND_S):
            code = await bot.wait()
    assert code == 0
    assert fake.calls_of("editMessageText", interrupted)
    assert "Traceback" not in (tmp_path / "bot.log").read_text(encoding="utf-8")


async def test_questions_in_flight_when_killed_are_answered_once_after_the_restart(
    fake: FakeTelegram, tiny_data: Path, tmp_path: Path
) -> None:
    slow = launch_env(fake, tiny_data, tmp_path, TEST_QUERY_DELAY_S="30")
    users = range(3001, 3001 + len(QUESTIONS))
    async with bot_process(["-m", "tests.launch_bot"], slow, REPO, tmp_path / "1.log") as bot:
        await fake.wait_for("deleteWebhook", timeout=60)
        for user_id, question in zip(users, QUESTIONS, strict=True):
            await ask_privately(fake, question, user_id=user_id)
        await fake.wait_for("sendChatAction", count=len(QUESTIONS), timeout=30)  # searching
        bot.kill()  # SIGKILL, as the OOM killer does
        await bot.wait()
    assert not fake.calls_of("sendMessage")
    # The restart meets a Telegram hiccup: more 502s on getMe than one request retries.
    fake.fail_next("getMe", 502, description="Bad Gateway", times=6)
    fast = launch_env(fake, tiny_data, tmp_path)
    async with bot_process(["-m", "tests.launch_bot"], fast, REPO, tmp_path / "2.log") as bot:
        await fake.wait_for("sendMessage", lambda c: c.ok, count=len(QUESTIONS), timeout=60)
        await ask_privately(fake, "phở bò?", user_id=4000)  # answered after the replayed ones
        await fake.wait_for("sendMessage", sent_to(4000), timeout=30)
        bot.send_signal(signal.SIGTERM)
        async with asyncio.timeout(STOP_BOUND_S):
            assert await bot.wait() == 0
    per_chat = Counter(c.params["chat_id"] for c in fake.calls_of("sendMessage", lambda c: c.ok))
    assert [per_chat[user_id] for user_id in users] == [1] * len(QUESTIONS)
    assert not fake.calls_of("sendMessage", lambda c: c.params["text"] == messages.INTERNAL_ERROR)
    assert "Traceback" not in (tmp_path / "2.log").read_text(encoding="utf-8")


async def test_sigint_stops_a_serving_bot_with_code_0(
    fake: FakeTelegram, tiny_data: Path, tmp_path: Path
) -> None:
    env = launch_env(fake, tiny_data, tmp_path)
    async with bot_process(["-m", "tests.launch_bot"], env, REPO, tmp_path / "bot.log") as bot:
        await ask_privately(fake, PHO_YEN_QUESTION)
        await fake.wait_for("sendMessage", sent_to(111), timeout=60)
        bot.send_signal(signal.SIGINT)
        async with asyncio.timeout(STOP_BOUND_S):
            assert await bot.wait() == 0


@pytest.mark.parametrize("method", ["getMe", "deleteWebhook"])
async def test_sigterm_while_starting_up_exits_0_without_a_traceback(
    fake: FakeTelegram, tiny_data: Path, tmp_path: Path, method: str
) -> None:
    fake.delay_next(method, 3)  # Telegram is slow to answer a start-up call
    env = launch_env(fake, tiny_data, tmp_path)
    async with bot_process(["-m", "tests.launch_bot"], env, REPO, tmp_path / "bot.log") as bot:
        await fake.wait_for(method, timeout=60)
        bot.send_signal(signal.SIGTERM)
        async with asyncio.timeout(STOP_BOUND_S):
            assert await bot.wait() == 0
    assert "Traceback" not in (tmp_path / "bot.log").read_text(encoding="utf-8")


@pytest.mark.slow
async def test_real_bot_sigterm_during_reindex_exits_0_within_5_s(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    shutil.copytree(REPO / "data", data)
    env = launch_env(fake, data, tmp_path, MODEL_CACHE_DIR=str(MODEL_CACHE))
    async with bot_process(["-m", "bot"], env, tmp_path, tmp_path / "bot.log") as bot:
        await fake.wait_for("deleteWebhook", timeout=300)
        paragraphs = (f"Đoạn {n}: tin tức về kinh tế, xã hội tỉnh số {n}." for n in range(3000))
        (data / "many.md").write_text("title: Nhiều\n\n" + "\n\n".join(paragraphs), "utf-8")
        await ask_privately(fake, "/reindex", user_id=ADMIN_ID, name="Admin")
        await fake.wait_for("editMessageText", progress_shown, timeout=120)
        started = time.monotonic()
        bot.send_signal(signal.SIGTERM)
        async with asyncio.timeout(STOP_BOUND_S):
            code = await bot.wait()
        took_s = time.monotonic() - started
        print(f"\nreal model: SIGTERM during /reindex -> exit {code} in {took_s:.2f} s")
    assert code == 0
    assert fake.calls_of("editMessageText", interrupted)
