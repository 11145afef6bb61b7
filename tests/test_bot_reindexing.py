"""/reindex and /stats end to end: admins, progress edits, atomic swap, failures, stale buttons."""

from __future__ import annotations

import logging
import shutil
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from bot import messages
from bot.app import BotApplication
from index import Searcher
from tests.bot_fixtures import (
    ADMIN_ID,
    PHO_YEN_QUESTION,
    SlowEmbedder,
    ask_privately,
    bot_running,
    buttons,
    load_searcher,
    make_settings,
    sent_to,
)
from tests.conftest import FakeEmbedder, IsolatedFakeEmbedder
from tests.fake_telegram import Call, FakeTelegram

pytest_plugins = ["tests.bot_fixtures"]

NEW_ARTICLE = """title: Cầu Rồng Đà Nẵng phun lửa
date: 2024-05-01
source: Báo Đà Nẵng

Cầu Rồng ở Đà Nẵng phun lửa và phun nước vào tối thứ bảy, chủ nhật hằng tuần.
"""


class FailingEmbedder(FakeEmbedder):
    """Answers queries, but embedding chunks fails with an unexpected (non-index) error."""

    def embed_chunks(self, texts: object, progress: object = None) -> np.ndarray:
        raise OSError("disk on fire")


def empty_directory(path: Path) -> None:
    shutil.rmtree(path)
    path.mkdir()


def report(call: Call) -> bool:
    return call.ok and call.params["text"].startswith("Đã cập nhật chỉ mục")


def failure(call: Call) -> bool:
    return call.ok and call.params["text"].startswith("Cập nhật chỉ mục thất bại")


async def test_admin_reindex_shows_progress_answers_meanwhile_and_swaps_the_index(
    fake: FakeTelegram, tiny_data: Path, built_index: Path, tmp_path: Path
) -> None:
    (tiny_data / "cau-rong.md").write_text(NEW_ARTICLE, encoding="utf-8")
    # Only the new article's paragraph is embedded (the update is incremental): slowly.
    settings = make_settings(
        fake, tiny_data, built_index, EMBEDDING_CACHE=str(tmp_path / "fresh.sqlite")
    )
    searcher = load_searcher(built_index, SlowEmbedder(delay_s=1.0))
    async with bot_running(settings, searcher, progress_interval_s=0.2):
        await ask_privately(fake, "/reindex", user_id=ADMIN_ID, name="Admin")
        [started] = await fake.wait_for("sendMessage", sent_to(ADMIN_ID))
        assert started.params["text"] == messages.REINDEX_STARTED
        await ask_privately(fake, "phở bò Hà Nội?", user_id=222, name="Bình")
        [answer] = await fake.wait_for("sendMessage", sent_to(222))
        [done] = await fake.wait_for("editMessageText", report, timeout=10)
        await ask_privately(fake, "Cầu Rồng phun lửa khi nào?", user_id=333, name="Chi")
        [after] = await fake.wait_for("sendMessage", sent_to(333))
    assert answer.at < done.at
    assert "Phở Hà Nội" in answer.params["text"]
    edits = fake.calls_of("editMessageText")
    assert all(edit.ok for edit in edits)  # never "message is not modified"
    assert all(edit.params["message_id"] == started.result["message_id"] for edit in edits)
    progress = [edit for edit in edits if "đã xử lý" in edit.params["text"]]
    assert progress
    assert progress[0].at - started.at >= 0.2 - 0.05
    assert all(later.at - earlier.at >= 0.15 for earlier, later in pairwise(progress))
    assert "Thêm 1, sửa 0, xoá 0 đoạn." in done.params["text"]
    assert "6 bài, 9 đoạn" in done.params["text"]
    assert "Thời gian:" in done.params["text"]
    assert after.params["text"].startswith("<b>1. Cầu Rồng Đà Nẵng phun lửa</b>")


async def test_reindex_in_a_child_process_swaps_in_the_new_article(
    fake: FakeTelegram, tiny_data: Path, built_index: Path
) -> None:
    (tiny_data / "cau-rong.md").write_text(NEW_ARTICLE, encoding="utf-8")
    embedder = IsolatedFakeEmbedder()  # like the real one: updates run in a child process
    searcher = load_searcher(built_index, embedder)
    async with bot_running(make_settings(fake, tiny_data, built_index), searcher):
        await ask_privately(fake, "/reindex", user_id=ADMIN_ID, name="Admin")
        [done] = await fake.wait_for("editMessageText", report, timeout=20)
        await ask_privately(fake, "Cầu Rồng phun lửa khi nào?", user_id=333, name="Chi")
        [after] = await fake.wait_for("sendMessage", sent_to(333))
    assert "Thêm 1, sửa 0, xoá 0 đoạn." in done.params["text"]
    assert embedder.embedded == 0  # the child embedded the new paragraph
    assert after.params["text"].startswith("<b>1. Cầu Rồng Đà Nẵng phun lửa</b>")


async def test_non_admin_reindex_is_refused_and_logged(
    fake: FakeTelegram, running_bot: BotApplication, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot")
    await ask_privately(fake, "/reindex", user_id=222, name="Bình")
    [call] = await fake.wait_for("sendMessage", sent_to(222))
    assert call.params["text"] == messages.NOT_ADMIN
    assert "refused /reindex from user 222 in chat 222" in caplog.text
    assert not fake.calls_of("editMessageText")


async def test_second_reindex_while_one_runs_is_refused(
    fake: FakeTelegram, tiny_data: Path, built_index: Path, tmp_path: Path
) -> None:
    (tiny_data / "cau-rong.md").write_text(NEW_ARTICLE, encoding="utf-8")
    settings = make_settings(
        fake, tiny_data, built_index, EMBEDDING_CACHE=str(tmp_path / "fresh.sqlite")
    )
    searcher = load_searcher(built_index, SlowEmbedder(delay_s=1.0))
    async with bot_running(settings, searcher):
        admin, _ = await ask_privately(fake, "/reindex", user_id=ADMIN_ID, name="Admin")
        await fake.wait_for("sendMessage", sent_to(ADMIN_ID))
        await fake.user_says(fake.private_chat(admin), admin, "/reindex")
        [_, busy] = await fake.wait_for("sendMessage", sent_to(ADMIN_ID), count=2)
        await fake.wait_for("editMessageText", report, timeout=10)
    assert busy.params["text"] == messages.REINDEX_BUSY
    assert len(fake.calls_of("editMessageText", report)) == 1


async def test_failed_reindex_reports_the_reason_and_keeps_the_old_index(
    fake: FakeTelegram, running_bot: BotApplication, tiny_data: Path
) -> None:
    empty_directory(tiny_data)
    await ask_privately(fake, "/reindex", user_id=ADMIN_ID, name="Admin")
    [failed] = await fake.wait_for("editMessageText", failure)
    assert "No readable articles in" in failed.params["text"]
    assert failed.params["text"].endswith("Chỉ mục cũ vẫn đang được dùng.")
    await ask_privately(fake, PHO_YEN_QUESTION, user_id=222, name="Bình")
    [answer] = await fake.wait_for("sendMessage", sent_to(222))
    assert "25,872 tỷ USD" in answer.params["text"]


async def test_unexpected_reindex_error_gives_no_details_and_keeps_the_old_index(
    fake: FakeTelegram,
    tiny_data: Path,
    built_index: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    (tiny_data / "cau-rong.md").write_text(NEW_ARTICLE, encoding="utf-8")
    settings = make_settings(
        fake, tiny_data, built_index, EMBEDDING_CACHE=str(tmp_path / "fresh.sqlite")
    )
    async with bot_running(settings, load_searcher(built_index, FailingEmbedder())):
        await ask_privately(fake, "/reindex", user_id=ADMIN_ID, name="Admin")
        [failed] = await fake.wait_for("editMessageText", failure)
        await ask_privately(fake, PHO_YEN_QUESTION, user_id=222, name="Bình")
        [answer] = await fake.wait_for("sendMessage", sent_to(222))
    assert failed.params["text"] == messages.REINDEX_FAILED_GENERIC
    assert "25,872 tỷ USD" in answer.params["text"]
    [record] = [r for r in caplog.records if r.name == "bot.reindexing"]
    assert record.exc_info
    assert "disk on fire" in str(record.exc_info[1])


@pytest.mark.parametrize(("allow", "allowed"), [("false", False), ("true", True)])
async def test_group_admin_may_reindex_only_with_allow_group_admins(
    fake: FakeTelegram,
    tiny_data: Path,
    built_index: Path,
    bot_searcher: Searcher,
    allow: str,
    allowed: bool,
) -> None:
    settings = make_settings(fake, tiny_data, built_index, ALLOW_GROUP_ADMINS=allow)
    group, moderator = fake.group_chat(-100900, "Nhóm"), fake.add_user(5, "Điều hành")
    fake.set_member(-100900, 5, "administrator")
    async with bot_running(settings, bot_searcher):
        asked = await fake.user_says(group, moderator, "/reindex@rag_test_bot")
        [first] = await fake.wait_for("sendMessage", sent_to(-100900, asked["message_id"]))
        if allowed:
            await fake.wait_for("editMessageText", report)
    assert (first.params["text"] == messages.REINDEX_STARTED) is allowed
    assert (first.params["text"] == messages.NOT_ADMIN) is not allowed
    assert bool(fake.calls_of("getChatMember")) is allowed


async def test_group_member_is_refused_and_other_bots_reindex_is_ignored(
    fake: FakeTelegram, tiny_data: Path, built_index: Path, bot_searcher: Searcher
) -> None:
    settings = make_settings(fake, tiny_data, built_index, ALLOW_GROUP_ADMINS="true")
    group, member = fake.group_chat(-100901, "Nhóm"), fake.add_user(6, "Thành viên")
    async with bot_running(settings, bot_searcher):
        await fake.user_says(group, member, "/reindex@other_bot")
        asked = await fake.user_says(group, member, "/reindex@rag_test_bot")
        [call] = await fake.wait_for("sendMessage", sent_to(-100901, asked["message_id"]))
    assert call.params["text"] == messages.NOT_ADMIN
    assert len(fake.calls_of("sendMessage")) == 1  # nothing for /reindex@other_bot


async def test_buttons_from_before_a_reindex_that_changed_the_index_ask_the_question_again(
    fake: FakeTelegram, running_bot: BotApplication, tiny_data: Path
) -> None:
    user, _ = await ask_privately(fake, PHO_YEN_QUESTION, user_id=222, name="Bình")
    [answer] = await fake.wait_for("sendMessage", sent_to(222))
    (tiny_data / "cau-rong.md").write_text(NEW_ARTICLE, encoding="utf-8")
    await ask_privately(fake, "/reindex", user_id=ADMIN_ID, name="Admin")
    await fake.wait_for("editMessageText", report)
    await fake.user_clicks(user, answer.result, buttons(answer)[messages.BUTTON_NEXT])
    [_, following] = await fake.wait_for("sendMessage", sent_to(222), count=2)
    assert "Thu ngân sách trên địa bàn đạt gần 7.000 tỷ đồng" in following.params["text"]
    [pressed] = await fake.wait_for("answerCallbackQuery")
    assert "text" not in pressed.params


async def test_stats_shows_the_index_and_questions_to_admins_only(
    fake: FakeTelegram, running_bot: BotApplication
) -> None:
    user, _ = await ask_privately(fake, "phở bò?", user_id=222, name="Bình")
    await fake.wait_for("sendMessage", sent_to(222))
    await ask_privately(fake, "/stats", user_id=ADMIN_ID, name="Admin")
    [stats] = await fake.wait_for("sendMessage", sent_to(ADMIN_ID))
    text = stats.params["text"]
    assert "Bài báo: 5" in text
    assert "Đoạn: 8" in text
    assert "Mô hình: fake-embedder" in text
    assert "Câu hỏi đã trả lời từ khi khởi động: 1" in text
    assert "0 phút trước" in text
    await fake.user_says(fake.private_chat(user), user, "/stats")
    [_, refused] = await fake.wait_for("sendMessage", sent_to(222), count=2)
    assert refused.params["text"] == messages.NOT_ADMIN


async def test_scheduled_reindex_applies_new_articles_without_any_message(
    fake: FakeTelegram, tiny_data: Path, built_index: Path
) -> None:
    settings = make_settings(fake, tiny_data, built_index, REINDEX_EVERY="30")
    async with bot_running(settings, load_searcher(built_index)) as app:
        assert app.job_queue is not None
        [job] = app.job_queue.get_jobs_by_name("reindex")
        assert job.job.trigger.interval.total_seconds() == 30 * 60
        (tiny_data / "cau-rong.md").write_text(NEW_ARTICLE, encoding="utf-8")
        await job.run(app)
        await ask_privately(fake, "Cầu Rồng phun lửa khi nào?", user_id=333, name="Chi")
        [after] = await fake.wait_for("sendMessage", sent_to(333))
    assert after.params["text"].startswith("<b>1. Cầu Rồng Đà Nẵng phun lửa</b>")
    assert not fake.calls_of("editMessageText")


async def test_scheduled_reindex_skips_its_turn_while_a_reindex_runs(
    fake: FakeTelegram, tiny_data: Path, built_index: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.reindexing")
    settings = make_settings(fake, tiny_data, built_index, REINDEX_EVERY="5")
    searcher = load_searcher(built_index)
    async with bot_running(settings, searcher) as app:
        assert app.job_queue is not None
        [job] = app.job_queue.get_jobs_by_name("reindex")
        (tiny_data / "cau-rong.md").write_text(NEW_ARTICLE, encoding="utf-8")
        async with app.bot_data.reindex_lock:
            await job.run(app)
        assert app.bot_data.searcher is searcher
    assert "scheduled reindex skipped" in caplog.text


async def test_reindex_that_finds_nothing_changed_keeps_the_searcher_and_buttons(
    fake: FakeTelegram, tiny_data: Path, built_index: Path
) -> None:
    searcher = load_searcher(built_index)
    async with bot_running(make_settings(fake, tiny_data, built_index), searcher) as app:
        await ask_privately(fake, "/reindex", user_id=ADMIN_ID, name="Admin")
        [done] = await fake.wait_for("editMessageText", report, timeout=10)
        assert app.bot_data.searcher is searcher
    assert "Thêm 0, sửa 0, xoá 0 đoạn." in done.params["text"]
