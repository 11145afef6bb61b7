"""The bot as a process: started like production, answering over HTTP, stopped by SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest

from tests.bot_fixtures import JSON, PHO_YEN_QUESTION, TOKEN, environment, sent_to
from tests.conftest import REPO
from tests.fake_telegram import Call, FakeTelegram

pytest_plugins = ["tests.bot_fixtures"]

MODEL_CACHE = REPO / "var" / "models"
EXIT_TIMEOUT_S = 20


@asynccontextmanager
async def bot_process(
    args: list[str], env: Mapping[str, str], cwd: Path, log: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    """Start ``python args`` with stderr in ``log``; kill it if the test fails."""
    with log.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *args,
            cwd=cwd,
            env=dict(env),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
        )
        try:
            yield process
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()


async def stop(process: asyncio.subprocess.Process) -> int:
    process.send_signal(signal.SIGTERM)
    async with asyncio.timeout(EXIT_TIMEOUT_S):
        return await process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def post_update(url: str, update: JSON, secret: str) -> int:
    """POST ``update`` as Telegram does; retry while the webhook server is starting."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    async with asyncio.timeout(20), aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.post(url, json=update, headers=headers) as response:
                    return response.status
            except aiohttp.ClientConnectorError:
                await asyncio.sleep(0.1)


def last_update_id(fake: FakeTelegram) -> int:
    return max(u["update_id"] for c in fake.calls_of("getUpdates") if c.ok for u in c.result)


def final_poll(call: Call) -> bool:
    return call.ok and call.params.get("timeout") == 0


async def ask_and_stop(
    fake: FakeTelegram, process: asyncio.subprocess.Process, startup_s: float
) -> Call:
    """Wait for polling, ask the Phổ Yên question, return the answer, then SIGTERM."""
    await fake.wait_for("deleteWebhook", timeout=startup_s)
    user = fake.add_user(111, "An")
    await fake.user_says(fake.private_chat(user), user, PHO_YEN_QUESTION)
    [answer] = await fake.wait_for("sendMessage", sent_to(111), timeout=60)
    assert await stop(process) == 0
    [last] = fake.calls_of("getUpdates", final_poll)
    assert last.params["offset"] == last_update_id(fake) + 1
    return answer


async def test_launched_bot_answers_and_exits_0_on_sigterm_without_logging_the_token(
    fake: FakeTelegram, tiny_data: Path, tmp_path: Path
) -> None:
    env = environment(
        PYTHONPATH=str(REPO),
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=fake.base_url,
        DATA_DIR=str(tiny_data),
        INDEX_DIR=str(tmp_path / "index"),
        ANSWER_LOG=str(tmp_path / "answers.sqlite"),
        LOG_LEVEL="DEBUG",
    )
    log = tmp_path / "bot.log"
    async with bot_process(["-m", "tests.launch_bot"], env, REPO, log) as process:
        answer = await ask_and_stop(fake, process, startup_s=60)
    assert "25,872 tỷ USD" in answer.params["text"]
    logged = log.read_text(encoding="utf-8")
    assert "Processing update" in logged  # PTB's DEBUG logging was on
    assert TOKEN not in logged


async def test_webhook_mode_registers_the_webhook_and_answers_posted_updates(
    fake: FakeTelegram, tiny_data: Path, tmp_path: Path
) -> None:
    port, secret = free_port(), "s3cret_token"
    env = environment(
        PYTHONPATH=str(REPO),
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=fake.base_url,
        DATA_DIR=str(tiny_data),
        INDEX_DIR=str(tmp_path / "index"),
        WEBHOOK_URL="https://bot.example.test/telegram/hook",
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(port),
        WEBHOOK_SECRET=secret,
        ANSWER_LOG=str(tmp_path / "answers.sqlite"),
        LOG_LEVEL="DEBUG",
    )
    log = tmp_path / "bot.log"
    async with bot_process(["-m", "tests.launch_bot"], env, REPO, log) as process:
        [hook] = await fake.wait_for("setWebhook", timeout=60)
        user = fake.add_user(111, "An")
        asked = await fake.user_says(fake.private_chat(user), user, PHO_YEN_QUESTION)
        update = {"update_id": 1, "message": asked}
        url = f"http://127.0.0.1:{port}/telegram/hook"
        assert await post_update(url, update, "wrong") == 403
        assert await post_update(url, update, secret) == 200
        [answer] = await fake.wait_for("sendMessage", sent_to(111), timeout=30)
        assert await stop(process) == 0
    assert hook.params["url"] == "https://bot.example.test/telegram/hook"
    assert hook.params["secret_token"] == secret
    assert "25,872 tỷ USD" in answer.params["text"]
    assert not fake.calls_of("getUpdates")
    logged = log.read_text(encoding="utf-8")
    assert "setWebhook" in logged  # PTB logs its parameters at DEBUG, secret included...
    assert secret not in logged  # ...but the formatter hides it
    assert TOKEN not in logged


@pytest.mark.slow
async def test_real_bot_builds_the_index_and_quotes_the_export_paragraph(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    env = environment(
        PYTHONPATH=str(REPO),
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=fake.base_url,
        DATA_DIR=str(REPO / "data"),
        INDEX_DIR=str(tmp_path / "index"),
        EMBEDDING_CACHE=str(tmp_path / "cache.sqlite"),
        MODEL_CACHE_DIR=str(MODEL_CACHE),
    )
    log = tmp_path / "bot.log"
    async with bot_process(["-m", "bot"], env, tmp_path, log) as process:
        answer = await ask_and_stop(fake, process, startup_s=300)
    print(f"\nanswer sent by the bot:\n{answer.params['text']}")
    first = answer.params["text"].split("\n\n")[0]
    assert "25,872 tỷ USD" in first
    assert "<blockquote" in first  # expandable when the paragraph is long
    assert "TP Phổ Yên là hạt nhân" in first
    assert TOKEN not in log.read_text(encoding="utf-8")


@pytest.mark.slow
async def test_terminal_chat_answers_piped_questions_and_exits_0_at_eof(tmp_path: Path) -> None:
    env = environment(
        PYTHONPATH=str(REPO),
        DATA_DIR=str(REPO / "data"),
        INDEX_DIR=str(tmp_path / "index"),
        EMBEDDING_CACHE=str(tmp_path / "cache.sqlite"),
        MODEL_CACHE_DIR=str(MODEL_CACHE),
    )
    log = tmp_path / "chat.log"
    async with bot_process(["-m", "bot"], env, tmp_path, log) as process:
        async with asyncio.timeout(300):
            stdout, _ = await process.communicate(f"{PHO_YEN_QUESTION}\n".encode())
    out = stdout.decode("utf-8")
    print(f"\nterminal chat output:\n{out}")
    assert process.returncode == 0
    first = out[out.index("\n1. ") + 1 :].split("\n\n")[0]
    assert first.startswith("1. Bí thư Tỉnh ủy Thái Nguyên: TP Phổ Yên là hạt nhân")
    assert "25,872 tỷ USD" in first
    assert "đoạn " in first
    assert "embed: 100%" in log.read_text(encoding="utf-8")  # built first, with a progress bar
