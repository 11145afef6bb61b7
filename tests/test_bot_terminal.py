"""The terminal chat answers as the bot does, reading piped stdin until EOF or "exit"."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot import messages
from bot.__main__ import main
from bot.config import Settings
from bot.formatting import format_answer
from bot.terminal import answer_text, chat
from index import ProgressBar, Searcher
from tests.bot_fixtures import PHO_YEN_QUESTION, load_searcher
from tests.fake_telegram import parse_html

pytest_plugins = ["tests.bot_fixtures"]


@pytest.fixture
def quiet_searcher(built_index: Path) -> Searcher:
    return load_searcher(built_index)


def test_terminal_answer_has_the_same_passages_as_the_telegram_answer(
    quiet_searcher: Searcher,
) -> None:
    settings = Settings.from_env({})
    plain = answer_text(quiet_searcher, settings, PHO_YEN_QUESTION)
    [html_part] = format_answer(quiet_searcher.search(PHO_YEN_QUESTION, settings.top_k))
    visible, _ = parse_html(html_part)
    assert plain.replace("> ", "").replace(" (https://vtc.vn/pho-yen)", "") == visible
    assert "25,872 tỷ USD" in plain
    assert "https://vtc.vn/pho-yen" in plain


def test_terminal_not_found_and_truncation_texts_match_the_bot(quiet_searcher: Searcher) -> None:
    settings = Settings.from_env({"MAX_QUESTION_CHARS": "10"})
    assert answer_text(quiet_searcher, settings, "xyz qwe") == messages.NOT_FOUND
    long = answer_text(quiet_searcher, settings, "phở bò Hà Nội ngon")
    assert long.startswith(messages.QUESTION_TRUNCATED.format(max_chars=10) + "\n\n1. Phở Hà Nội")


def test_chat_reads_piped_questions_until_exit(quiet_searcher: Searcher) -> None:
    stdin = io.StringIO(f"{PHO_YEN_QUESTION}\n\n   \nphở bò\nexit\nLũ lớn ở Thanh Hoá?\n")
    stdout = io.StringIO()
    chat(quiet_searcher, Settings.from_env({}), stdin, stdout)
    out = stdout.getvalue()
    assert out.startswith(messages.TERMINAL_GREETING)
    assert messages.TERMINAL_PROMPT not in out  # no prompt when stdin is not a terminal
    assert out.count("1. Phổ Yên đạt nhiều kết quả năm 2023") == 1
    assert "1. Phở Hà Nội" in out
    assert "Lũ lớn ở Thanh Hoá" not in out  # asked after "exit"


def test_chat_ends_at_eof(quiet_searcher: Searcher) -> None:
    stdout = io.StringIO()
    chat(quiet_searcher, Settings.from_env({}), io.StringIO("phở bò"), stdout)
    assert "1. Phở Hà Nội" in stdout.getvalue()


def test_progress_bar_follows_the_build_stages() -> None:
    stream = io.StringIO()
    bar = ProgressBar(stream)
    for done in (0, 5, 10):
        bar("embed", done, 10)
    bar("write", 0, 1)
    bar("write", 1, 1)
    assert "embed" in stream.getvalue()
    assert "10/10" in stream.getvalue()


@pytest.mark.usefixtures("restore_logging")
def test_main_exits_1_with_one_line_on_a_config_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TOP_K", "zero")
    assert main([]) == 1
    assert "TOP_K='zero' must be a whole number" in capsys.readouterr().err


@pytest.mark.slow  # imports sentence-transformers and torch (~20 s)
@pytest.mark.usefixtures("restore_logging")
def test_main_exits_1_when_the_model_cannot_be_loaded(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("EMBEDDING_MODEL=/nonexistent/model\n", encoding="utf-8")
    monkeypatch.delenv("EMBEDDING_MODEL", raising=False)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert main([]) == 1
    err = capsys.readouterr().err
    assert "Cannot load embedding model '/nonexistent/model'" in err
    assert "Traceback" not in err
