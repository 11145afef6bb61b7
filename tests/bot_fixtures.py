"""Fixtures and helpers for the Telegram-layer tests: the fake Bot API and the real Application.

Test modules load this with ``pytest_plugins = ["tests.bot_fixtures"]``; the index fixtures
(``built_index``, ``fake_embedder``, ``tiny_data``) come from tests/conftest.py. Test modules
also import helpers from here before pytest registers it as a plugin, hence PYTEST_DONT_REWRITE
(no assertion rewriting in this module; it has no test asserts anyway).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from telegram.ext import AIORateLimiter, BaseRateLimiter

from bot.__main__ import NOISY_LOGGERS
from bot.app import ALLOWED_UPDATES, BotApplication, build_application
from bot.config import Settings
from index import Searcher, SearchSettings, load_index
from tests.conftest import FakeEmbedder
from tests.fake_telegram import Call, FakeTelegram

TOKEN = "123456:TEST"
BOT_ID = 123456
BOT_USERNAME = "rag_test_bot"
ADMIN_ID = 1
# No "no answer" cut: every chunk is a hit, ranked (for paging tests that need many hits).
EVERY_CHUNK = SearchSettings(min_confidence=0.0)
PHO_YEN_QUESTION = "Giá trị xuất khẩu của Phổ Yên năm 2023 là bao nhiêu?"
JSON = dict[str, Any]


class SlowEmbedder(FakeEmbedder):
    """FakeEmbedder whose chunk embedding takes ``delay_s`` per text (queries stay fast)."""

    def __init__(self, delay_s: float) -> None:
        super().__init__()
        self.delay_s = delay_s

    def embed_chunks(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        vectors = []
        for text in texts:
            time.sleep(self.delay_s)
            vectors.append(super().embed_chunks([text]))
            if progress:
                progress(1)
        return np.concatenate(vectors) if vectors else super().embed_chunks([])


class BrokenEmbedder(FakeEmbedder):
    """FakeEmbedder that fails on queries containing "boom" (to exercise the error handler)."""

    def embed_query(self, text: str) -> np.ndarray:
        if "boom" in text:
            raise RuntimeError("simulated failure in the embedder")
        return super().embed_query(text)


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeTelegram]:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    async with FakeTelegram(username=BOT_USERNAME) as server:
        yield server


def make_settings(fake: FakeTelegram, data_dir: Path, index_dir: Path, **env: str) -> Settings:
    """Settings as production reads them, pointed at the fake; ``env`` overrides."""
    base = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "DATA_DIR": str(data_dir),
        "INDEX_DIR": str(index_dir),
        "EMBEDDING_CACHE": str(index_dir.parent / "cache.sqlite"),
        "ANSWER_LOG": str(index_dir.parent / "answers.sqlite"),
        "ADMIN_IDS": str(ADMIN_ID),
    }
    return Settings.from_env(base | env)


@pytest.fixture
def settings(fake: FakeTelegram, tiny_data: Path, built_index: Path) -> Settings:
    return make_settings(fake, tiny_data, built_index)


def load_searcher(
    index_dir: Path,
    embedder: FakeEmbedder | None = None,
    search_settings: SearchSettings | None = None,
) -> Searcher:
    """Load ``index_dir`` with a FakeEmbedder and the index's own "no answer" decision."""
    return load_index(index_dir, embedder or FakeEmbedder(), search_settings)


@pytest.fixture
def bot_searcher(built_index: Path) -> Searcher:
    return load_searcher(built_index)


@asynccontextmanager
async def bot_running(
    settings: Settings,
    searcher: Searcher,
    rate_limiter: BaseRateLimiter[Any] | None = None,
    progress_interval_s: float | None = None,
) -> AsyncIterator[BotApplication]:
    """Run the real Application (as built for production) by long polling against the fake."""
    app = build_application(settings, searcher, rate_limiter or AIORateLimiter(max_retries=1))
    if progress_interval_s is not None:
        app.bot_data.progress_interval_s = progress_interval_s
    async with app:
        if app.post_init:
            await app.post_init(app)
        await app.start()
        assert app.updater is not None
        # As run(): the fake then delivers only the subscribed update types, like Telegram,
        # and polling errors go to the error handler.
        await app.updater.start_polling(
            timeout=1,
            poll_interval=0,
            allowed_updates=ALLOWED_UPDATES,
            error_callback=lambda exc: app.create_task(app.process_error(None, exc)),
        )
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


@pytest.fixture
async def running_bot(settings: Settings, bot_searcher: Searcher) -> AsyncIterator[BotApplication]:
    async with bot_running(settings, bot_searcher) as app:
        yield app


def sent_to(chat_id: int, reply_to: int | None = None) -> Callable[[Call], bool]:
    """Match successful sends to ``chat_id`` (replying to message ``reply_to`` if given)."""

    def match(call: Call) -> bool:
        if not call.ok or call.params["chat_id"] != chat_id:
            return False
        return reply_to is None or call.params["reply_parameters"]["message_id"] == reply_to

    return match


def with_keyboard(call: Call) -> bool:
    return call.ok and "reply_markup" in call.params


def buttons(call: Call) -> dict[str, str]:
    """Return {label: callback_data} of the inline keyboard of a sendMessage call."""
    rows = call.params.get("reply_markup", {}).get("inline_keyboard", [])
    return {button["text"]: button["callback_data"] for row in rows for button in row}


async def ask_privately(
    fake: FakeTelegram, text: str, user_id: int = 111, name: str = "An"
) -> tuple[JSON, JSON]:
    """Send ``text`` from a private chat; return (user, message)."""
    user = fake.add_user(user_id, name)
    return user, await fake.user_says(fake.private_chat(user), user, text)


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """main() configures logging for the process; give the next tests theirs back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    noisy = {name: logging.getLogger(name).level for name in NOISY_LOGGERS}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, noisy_level in noisy.items():
        logging.getLogger(name).setLevel(noisy_level)


def environment(**extra: str) -> Mapping[str, str]:
    """A small, explicit environment for subprocesses (no proxies, no network)."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV", "TMPDIR")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    return (
        env
        | {
            "NO_PROXY": "127.0.0.1,localhost",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "PTB_TIMEDELTA": "1",
            "PYTHONUNBUFFERED": "1",
        }
        | extra
    )
