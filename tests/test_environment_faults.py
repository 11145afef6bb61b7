"""Environment faults cost only the bad part, and the admin gets a sentence, not "lỗi nội bộ"."""

from __future__ import annotations

import asyncio
import errno
import json
import os
from pathlib import Path

import numpy as np
import pytest

from bot import messages
from bot.command_texts import format_storage_failure
from bot.inbox import Inbox
from index import EmbeddingCache, Searcher, build_index, load_index
from index.cache import CORRUPT_SUFFIX, text_key
from index.ingest import load_articles
from tests.bot_fixtures import (
    ADMIN_ID,
    PHO_YEN_QUESTION,
    ask_privately,
    bot_running,
    environment,
    make_settings,
    sent_to,
)
from tests.conftest import REPO, FakeEmbedder
from tests.fake_telegram import Call, FakeTelegram
from tests.test_process import MODEL_CACHE, bot_process

pytest_plugins = ["tests.bot_fixtures"]


def row(text: str, **fields: str) -> str:
    return json.dumps({"text": text, **fields}, ensure_ascii=False)


def report(call: Call) -> bool:
    return call.ok and call.params["text"].startswith("Đã cập nhật chỉ mục")


def failure(call: Call) -> bool:
    return call.ok and call.params["text"].startswith("Cập nhật chỉ mục thất bại")


def test_a_nul_byte_in_one_jsonl_row_skips_only_that_row(tmp_path: Path) -> None:
    broken = '{"text": "Hỏng\x00ở đây."}'  # a raw NUL byte, as a bad export leaves it
    rows = [row("Đoạn một về Huế."), broken, row("Đoạn ba về Đà Nẵng.")]
    (tmp_path / "bulk.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = load_articles(tmp_path)
    assert [a.paragraphs[0] for a in result.articles] == [
        "Đoạn một về Huế.",
        "Đoạn ba về Đà Nẵng.",
    ]
    [problem] = result.problems
    assert (problem.line, "NUL byte" in str(problem)) == (2, True)


def test_a_file_whose_name_is_not_utf8_is_skipped_with_a_message_naming_it(
    tmp_path: Path, fake_embedder: FakeEmbedder
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "good.md").write_text("title: Tin\n\nPhở bò Hà Nội.\n", encoding="utf-8")
    bad = os.fsdecode(b"bad-\xff\xfe.md")
    (data / bad).write_text("title: Lỗi\n\nKhông đọc được tên.\n", encoding="utf-8")
    report = build_index(data, tmp_path / "index", fake_embedder)
    assert report.articles == 1
    [problem] = report.problems
    assert "bad-\\xff\\xfe.md" in problem
    assert "not valid UTF-8" in problem


def test_an_article_over_max_article_bytes_is_skipped_with_a_message(tmp_path: Path) -> None:
    (tmp_path / "small.md").write_text("title: Nhỏ\n\nMột đoạn ngắn.\n", encoding="utf-8")
    (tmp_path / "huge.txt").write_text("chữ " * 400, encoding="utf-8")
    rows = [row("Đoạn ngắn."), row("dài " * 400)]
    (tmp_path / "bulk.jsonl").write_text("\n".join(rows), encoding="utf-8")
    result = load_articles(tmp_path, max_article_bytes=1000)
    assert sorted(a.title or a.paragraphs[0] for a in result.articles) == ["Nhỏ", "Đoạn ngắn."]
    messages_ = sorted(str(p) for p in result.problems)
    assert len(messages_) == 2
    assert all("over MAX_ARTICLE_BYTES (1,000)" in m for m in messages_)
    assert any(m.startswith(f"{tmp_path / 'bulk.jsonl'}:2:") for m in messages_)
    assert any("huge.txt" in m for m in messages_)


def test_a_corrupt_embedding_cache_is_moved_aside_and_started_afresh(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "cache.sqlite"
    path.write_bytes(b"this is not a database, just garbage " * 100)
    cache = EmbeddingCache(path)
    cache.put_many("m", {text_key("phở"): np.ones(4, dtype=np.float32)})
    assert list(cache.get_many("m", [text_key("phở")], 4)) == [text_key("phở")]
    assert (tmp_path / f"cache.sqlite{CORRUPT_SUFFIX}").exists()
    assert "is corrupt" in caplog.text


def test_an_unusable_embedding_cache_is_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "var").write_text("a file where a directory should be", encoding="utf-8")
    cache = EmbeddingCache(tmp_path / "var" / "cache" / "embeddings.sqlite")
    cache.put_many("m", {"k": np.ones(4, dtype=np.float32)})
    assert cache.get_many("m", ["k"], 4) == {}
    assert not cache.usable
    assert "continuing without it" in caplog.text


def test_storage_failures_name_the_path_and_the_cause_in_vietnamese() -> None:
    for code, cause in (
        (errno.EROFS, messages.STORAGE_READ_ONLY),
        (errno.ENOSPC, messages.STORAGE_FULL),
        (errno.EACCES, messages.STORAGE_NO_PERMISSION),
    ):
        error = OSError(code, os.strerror(code), "/srv/bot/var/index")
        text = format_storage_failure(error, Path("var/index"))
        assert "/srv/bot/var/index" in text
        assert cause in text
        assert "lỗi nội bộ" not in text
    assert "chỉ đọc" in messages.STORAGE_READ_ONLY
    assert "hết dung lượng" in messages.STORAGE_FULL


async def test_reindex_into_an_unwritable_index_dir_names_the_path_and_the_cause(
    fake: FakeTelegram, tiny_data: Path, built_index: Path, tmp_path: Path, bot_searcher: Searcher
) -> None:
    blocker = tmp_path / "var"
    blocker.write_text("a file where the index directory should be", encoding="utf-8")
    elsewhere = {"ANSWER_LOG": str(tmp_path / "answers.sqlite")}  # only the index is blocked
    settings = make_settings(fake, tiny_data, blocker / "var" / "index", **elsewhere)
    async with bot_running(settings, bot_searcher):
        await ask_privately(fake, "/reindex", user_id=ADMIN_ID, name="Admin")
        [failed] = await fake.wait_for("editMessageText", failure)
        await ask_privately(fake, PHO_YEN_QUESTION, user_id=222, name="Bình")
        [answer] = await fake.wait_for("sendMessage", sent_to(222))
    assert str(blocker) in failed.params["text"]
    assert messages.STORAGE_NOT_A_DIRECTORY in failed.params["text"]
    assert "lỗi nội bộ" not in failed.params["text"]
    assert "25,872 tỷ USD" in answer.params["text"]


async def test_reindex_with_a_corrupt_embedding_cache_still_succeeds(
    fake: FakeTelegram, tiny_data: Path, built_index: Path, bot_searcher: Searcher
) -> None:
    settings = make_settings(fake, tiny_data, built_index)
    settings.embedding_cache.write_bytes(b"\x00garbage" * 64)
    async with bot_running(settings, bot_searcher):
        await ask_privately(fake, "/reindex", user_id=ADMIN_ID, name="Admin")
        [done] = await fake.wait_for("editMessageText", report)
    assert "5 bài, 8 đoạn" in done.params["text"]


def test_an_unusable_inbox_costs_durability_not_answers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "state").write_text("not a directory", encoding="utf-8")
    inbox = Inbox(tmp_path / "state" / "answers.sqlite")
    assert inbox.claim(7, "{}")  # handled, just not durably
    inbox.finish(7)
    assert inbox.unfinished(max_age_s=600) == []
    assert "will not survive a restart" in caplog.text


def test_the_inbox_refuses_an_update_handled_before_or_being_handled(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path / "inbox.sqlite")
    assert inbox.claim(7, "{}")
    assert not inbox.claim(7, "{}")  # being handled
    inbox.finish(7)
    again = Inbox(tmp_path / "inbox.sqlite")  # after a restart
    assert not again.claim(7, "{}")  # handled
    assert again.claim(8, '{"update_id": 8}')
    restarted = Inbox(tmp_path / "inbox.sqlite")
    assert restarted.unfinished(max_age_s=600) == ['{"update_id": 8}']


def test_the_index_loads_and_serves_without_any_embedding_cache(
    built_index: Path, fake_embedder: FakeEmbedder
) -> None:
    hits = load_index(built_index, fake_embedder).search(PHO_YEN_QUESTION)
    assert hits


def test_reading_reports_progress_per_file(tmp_path: Path) -> None:
    for name in ("a.md", "b.md", "c.jsonl"):
        (tmp_path / name).write_text("title: T\n\nMột đoạn.\n", encoding="utf-8")
    seen: list[tuple[int, int]] = []
    load_articles(tmp_path, progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (0, 3)
    assert seen[-1] == (3, 3)


async def test_a_huge_single_line_article_is_skipped_and_named_in_the_reindex_report(
    fake: FakeTelegram, tiny_data: Path, built_index: Path, bot_searcher: Searcher
) -> None:
    (tiny_data / "dump.txt").write_text("chữ " * 1_300_000, encoding="utf-8")  # ~6.5 MB
    settings = make_settings(fake, tiny_data, built_index)
    async with bot_running(settings, bot_searcher):
        await ask_privately(fake, "/reindex", user_id=ADMIN_ID, name="Admin")
        [done] = await fake.wait_for("editMessageText", report)
    assert "5 bài, 8 đoạn" in done.params["text"]
    assert "dump.txt" in done.params["text"]
    assert "MAX_ARTICLE_BYTES" in done.params["text"]


@pytest.mark.slow
async def test_start_without_an_index_on_an_unwritable_var_is_one_sentence_and_exit_1(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "var"
    blocker.write_text("a file where var/ should be", encoding="utf-8")
    env = environment(
        PYTHONPATH=str(REPO),
        DATA_DIR=str(REPO / "data"),
        INDEX_DIR=str(blocker / "index"),
        EMBEDDING_CACHE=str(blocker / "cache" / "embeddings.sqlite"),
        MODEL_CACHE_DIR=str(MODEL_CACHE),
    )
    log = tmp_path / "bot.log"
    async with bot_process(["-m", "bot"], env, tmp_path, log) as process:
        async with asyncio.timeout(300):
            await process.communicate(b"")
    logged = log.read_text(encoding="utf-8")
    assert process.returncode == 1
    assert f"cannot write {blocker}" in logged
    assert "Traceback" not in logged
