"""End to end: 👍 / 👎 under answers, buttons that survive a restart, /stats on the answer log,
and ``python -m bot report``."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import messages
from bot.__main__ import main
from bot.app import BotApplication
from index import Searcher, build_index
from tests.bot_fixtures import (
    ADMIN_ID,
    PHO_YEN_QUESTION,
    ask_privately,
    bot_running,
    buttons,
    load_searcher,
    make_settings,
    sent_to,
)
from tests.conftest import FakeEmbedder
from tests.fake_telegram import FakeTelegram

pytest_plugins = ["tests.bot_fixtures"]


async def test_vote_is_counted_once_per_user_changeable_and_shown_on_the_button(
    fake: FakeTelegram, running_bot: BotApplication
) -> None:
    user, _ = await ask_privately(fake, PHO_YEN_QUESTION)
    [answer] = await fake.wait_for("sendMessage", sent_to(111))
    up, down = buttons(answer)[messages.BUTTON_UP], buttons(answer)[messages.BUTTON_DOWN]
    await fake.user_clicks(user, answer.result, up)
    [counted] = await fake.wait_for("answerCallbackQuery")
    [edit] = await fake.wait_for("editMessageReplyMarkup")
    assert counted.params["text"] == messages.VOTE_COUNTED
    assert f"{messages.BUTTON_UP} 1" in buttons(edit)
    assert messages.BUTTON_NEXT in buttons(edit)  # the other buttons stay
    await fake.user_clicks(user, edit.result, buttons(edit)[f"{messages.BUTTON_UP} 1"])
    [_, again] = await fake.wait_for("answerCallbackQuery", count=2)
    assert again.params["text"] == messages.VOTE_UNCHANGED
    await fake.user_clicks(user, edit.result, down)
    [_, changed] = await fake.wait_for("editMessageReplyMarkup", count=2)
    assert set(buttons(changed)) >= {messages.BUTTON_UP, f"{messages.BUTTON_DOWN} 1"}
    assert running_bot.bot_data.log.query("SELECT value FROM votes") == [(-1,)]


async def test_feedback_buttons_can_be_turned_off(
    fake: FakeTelegram, tiny_data: Path, built_index: Path, bot_searcher: Searcher
) -> None:
    settings = make_settings(fake, tiny_data, built_index, FEEDBACK_BUTTONS="false")
    async with bot_running(settings, bot_searcher):
        await ask_privately(fake, PHO_YEN_QUESTION)
        [answer] = await fake.wait_for("sendMessage", sent_to(111))
    assert set(buttons(answer)) == {messages.BUTTON_NEXT}


async def test_buttons_keep_working_after_a_restart(
    fake: FakeTelegram, tiny_data: Path, built_index: Path, bot_searcher: Searcher
) -> None:
    settings = make_settings(fake, tiny_data, built_index)
    async with bot_running(settings, bot_searcher):
        user, _ = await ask_privately(fake, PHO_YEN_QUESTION)
        [answer] = await fake.wait_for("sendMessage", sent_to(111))
    async with bot_running(settings, bot_searcher):
        await fake.user_clicks(user, answer.result, buttons(answer)[messages.BUTTON_NEXT])
        [_, following] = await fake.wait_for("sendMessage", sent_to(111), count=2)
    assert "Thu ngân sách trên địa bàn đạt gần 7.000 tỷ đồng" in following.params["text"]


THREE_PARAGRAPHS = """title: Cầu Rồng Đà Nẵng
date: 2024-05-01
source: Báo Đà Nẵng

Cầu Rồng ở Đà Nẵng phun lửa và phun nước vào tối thứ bảy, chủ nhật hằng tuần.

Cầu dài 666 mét, khánh thành năm 2013.

Du khách nên đến trước 21 giờ để có chỗ đứng xem.
"""


async def test_next_paragraph_can_be_followed_paragraph_after_paragraph(
    fake: FakeTelegram, tiny_data: Path, tmp_path: Path
) -> None:
    (tiny_data / "cau-rong.md").write_text(THREE_PARAGRAPHS, encoding="utf-8")
    build_index(tiny_data, tmp_path / "index3", FakeEmbedder())
    settings = make_settings(fake, tiny_data, tmp_path / "index3")
    async with bot_running(settings, load_searcher(tmp_path / "index3")):
        user, _ = await ask_privately(fake, "Cầu Rồng phun lửa khi nào?")
        [answer] = await fake.wait_for("sendMessage", sent_to(111))
        await fake.user_clicks(user, answer.result, buttons(answer)[messages.BUTTON_NEXT])
        [_, second] = await fake.wait_for("sendMessage", sent_to(111), count=2)
        await fake.user_clicks(user, second.result, buttons(second)[messages.BUTTON_NEXT])
        [*_, third] = await fake.wait_for("sendMessage", sent_to(111), count=3)
    assert "666 mét" in second.params["text"]
    assert "đoạn 2" in second.params["text"]
    assert "21 giờ" in third.params["text"]
    assert "đoạn 3" in third.params["text"]
    assert "reply_markup" not in third.params  # the last paragraph of the article


async def test_a_truly_stale_button_gets_the_polite_answer(
    fake: FakeTelegram, tiny_data: Path, built_index: Path, bot_searcher: Searcher
) -> None:
    settings = make_settings(fake, tiny_data, built_index, LOG_QUESTIONS="false")
    async with bot_running(settings, bot_searcher):
        user, _ = await ask_privately(fake, PHO_YEN_QUESTION)
        [answer] = await fake.wait_for("sendMessage", sent_to(111))
    async with bot_running(settings, bot_searcher):  # restarted, and no question to re-run
        await fake.user_clicks(user, answer.result, buttons(answer)[messages.BUTTON_NEXT])
        [stale] = await fake.wait_for("answerCallbackQuery")
    assert stale.params["text"] == messages.STALE_BUTTON
    assert len(fake.calls_of("sendMessage", sent_to(111))) == 1


async def test_button_of_an_older_bot_version_gets_the_polite_answer(
    fake: FakeTelegram, running_bot: BotApplication
) -> None:
    user = fake.add_user(111, "An")
    fake.private_chat(user)
    old = await running_bot.bot.send_message(111, "cũ", reply_markup=_old_keyboard())
    await fake.user_clicks(user, old.to_dict(), "more:0:3fa2c1d0:1")
    [stale] = await fake.wait_for("answerCallbackQuery")
    assert stale.params["text"] == messages.STALE_BUTTON


def _old_keyboard() -> InlineKeyboardMarkup:
    """A button as the bot sent them before answer ids: more:<generation>:<key>:<page>."""
    button = InlineKeyboardButton("Xem thêm", callback_data="more:0:3fa2c1d0:1")
    return InlineKeyboardMarkup([[button]])


async def test_stats_show_today_the_answered_share_votes_and_the_gaps(
    fake: FakeTelegram, running_bot: BotApplication
) -> None:
    user, _ = await ask_privately(fake, PHO_YEN_QUESTION, user_id=222, name="Bình")
    [answer] = await fake.wait_for("sendMessage", sent_to(222))
    await fake.user_clicks(user, answer.result, buttons(answer)[messages.BUTTON_UP])
    await fake.wait_for("editMessageReplyMarkup")
    for question in ("Giá vé máy bay đi Paris?", "gia ve may bay di paris?", "xyz qwe"):
        await fake.user_says(fake.private_chat(user), user, question)
    await fake.wait_for("sendMessage", sent_to(222), count=4)
    await ask_privately(fake, "/stats", user_id=ADMIN_ID, name="Admin")
    [stats] = await fake.wait_for("sendMessage", sent_to(ADMIN_ID))
    text = stats.params["text"]
    assert "Câu hỏi hôm nay: 4; 7 ngày qua: 4" in text
    assert "Trả lời được: 1 (25%); không tìm thấy: 3 (75%)" in text
    assert "👍 1 · 👎 0" in text
    assert "máy bay đi Paris? (2 lần)" in text or "may bay di paris? (2 lần)" in text
    assert "2. xyz qwe (1 lần)" in text


@pytest.mark.usefixtures("restore_logging")
async def test_report_writes_the_figures_as_csv(
    fake: FakeTelegram,
    tiny_data: Path,
    built_index: Path,
    bot_searcher: Searcher,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = make_settings(fake, tiny_data, built_index)
    async with bot_running(settings, bot_searcher):
        await ask_privately(fake, PHO_YEN_QUESTION)
        await ask_privately(fake, "xyz qwe", user_id=112, name="Bảo")
        await fake.wait_for(
            "sendMessage", lambda c: c.ok and c.params["chat_id"] in (111, 112), count=2
        )
    monkeypatch.setenv("ANSWER_LOG", str(settings.answer_log))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.chdir(tiny_data.parent)
    assert main(["report", "--days", "30"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    days = [row for row in rows if row["row"] == "day"]
    assert len(days) == 30
    [total] = [row for row in rows if row["row"] == "total"]
    assert (total["questions"], total["answered"], total["not_found"]) == ("2", "1", "1")
    assert days[-1]["questions"] == "2"  # today comes last
    [gap] = [row for row in rows if row["row"] == "unanswered"]
    assert (gap["label"], gap["questions"]) == ("xyz qwe", "1")
    assert main(["report", "--days", "1", "--output", "report.csv"]) == 0
    written = (tiny_data.parent / "report.csv").read_text(encoding="utf-8")
    assert written.splitlines()[1].startswith("day,")


@pytest.mark.usefixtures("restore_logging")
def test_report_without_an_answer_log_says_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ANSWER_LOG", str(tmp_path / "none.sqlite"))
    assert main(["report", "--days", "7"]) == 1
    assert f"No answer log at {tmp_path / 'none.sqlite'}" in capsys.readouterr().err
    assert not (tmp_path / "none.sqlite").exists()
