"""Command texts: /help from the one command list, /reindex progress and report, /stats."""

from __future__ import annotations

from datetime import UTC, datetime

from bot import messages
from bot.command_texts import (
    MAX_PROBLEMS_SHOWN,
    format_failure,
    format_help,
    format_progress,
    format_report,
    format_stats,
)
from index import AnswerStats, BuildReport, Gap, Manifest, Period
from tests.fake_telegram import parse_html


def manifest(built_at: str) -> Manifest:
    return Manifest(
        model="bundled:multilingual-e5-small",
        fingerprint="f",
        dim=384,
        count=21,
        articles=2,
        normalizer=1,
        built_at=built_at,
        vector_index="IndexFlatIP",
    )


def test_help_lists_every_command_and_the_example_questions() -> None:
    visible, _ = parse_html(format_help("rag_test_bot"))
    for name, description in messages.COMMANDS + messages.ADMIN_COMMANDS:
        assert f"/{name} — {description}" in visible
    for question in messages.EXAMPLE_QUESTIONS:
        assert question in visible
    assert "@rag_test_bot" in visible


def test_progress_text_per_stage() -> None:
    assert format_progress("embed", 3, 9) == messages.REINDEX_EMBEDDING.format(done=3, total=9)
    assert format_progress("write", 0, 1) == messages.REINDEX_WRITING
    assert format_progress("other", 0, 1) == messages.REINDEX_STARTED


def test_report_counts_changes_skipped_files_and_time() -> None:
    problems = [f"data/bad{n}.md: empty file <x>." for n in range(7)]
    report = BuildReport(3, 30, 2, 1, 4, 3, 12.345, problems)
    text = format_report(report)
    visible, _ = parse_html(text)
    assert "3 bài, 30 đoạn." in visible
    assert "Thêm 2, sửa 1, xoá 4 đoạn." in visible
    assert "Bỏ qua 7 tệp hoặc dòng lỗi." in visible
    assert "12,3 giây" in visible
    assert visible.count("data/bad") == MAX_PROBLEMS_SHOWN
    assert "&lt;x&gt;" in text


def test_failure_wraps_the_operator_message_in_vietnamese_or_stays_generic() -> None:
    text = format_failure("No readable articles in data/ <here>")
    assert text.startswith("Cập nhật chỉ mục thất bại: No readable articles in data/ &lt;here&gt;")
    assert format_failure(None) == messages.REINDEX_FAILED_GENERIC


NO_FIGURES = AnswerStats(today=0, days=7, period=Period(), gaps=())


def test_stats_show_counts_model_age_and_questions() -> None:
    now = datetime(2025, 1, 3, 12, 0, tzinfo=UTC)
    text = format_stats(manifest("2025-01-01T09:30:00+00:00"), 17, NO_FIGURES, now)
    assert "Bài báo: 2" in text
    assert "Đoạn: 21" in text
    assert "Mô hình: bundled:multilingual-e5-small" in text
    assert "01/01/2025 09:30 UTC (2 ngày trước)" in text
    assert "từ khi khởi động: 17" in text
    assert "(3 giờ trước)" in format_stats(manifest("2025-01-03T09:00:00"), 0, NO_FIGURES, now)
    assert "(? trước)" in format_stats(manifest("yesterday"), 0, NO_FIGURES, now)
    assert "Trả lời được: 0 (0%)" in text  # no division by zero without questions
    assert messages.STATS_NO_GAPS.format(days=7) in text


def test_stats_show_the_answered_share_votes_and_the_gaps_escaped() -> None:
    figures = AnswerStats(
        today=3,
        days=7,
        period=Period(questions=8, answered=6, not_found=2, thumbs_up=4, thumbs_down=1),
        gaps=(Gap("giá vé <máy bay> Paris?", 2), Gap("tỷ giá đô", 1)),
    )
    text = format_stats(manifest("2025-01-01T09:30:00+00:00"), 8, figures)
    visible, _ = parse_html(text)
    assert "Câu hỏi hôm nay: 3; 7 ngày qua: 8" in visible
    assert "Trả lời được: 6 (75%); không tìm thấy: 2 (25%)" in visible
    assert "👍 4 · 👎 1" in visible
    assert "1. giá vé <máy bay> Paris? (2 lần)\n2. tỷ giá đô (1 lần)" in visible
