"""Figures from the answer log: questions per day, answered vs "không tìm thấy", votes, gaps.

Days are Vietnam days (UTC+7, no daylight saving): the newsroom's "today". The gaps of the
archive are the unanswered questions asked most often, grouped by their folded text (so
"gia ve" and "Giá vé" count together); questions logged without text cannot be grouped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

from index.answerlog import AnswerLog

VIETNAM = timezone(timedelta(hours=7), "ICT")
DEFAULT_GAPS = 5


@dataclass(frozen=True)
class Period:
    """Counts over some days: questions, answered, "không tìm thấy", 👍 and 👎 votes."""

    questions: int = 0
    answered: int = 0
    not_found: int = 0
    thumbs_up: int = 0
    thumbs_down: int = 0


@dataclass(frozen=True)
class Gap:
    """A question the archive could not answer, and how often it was asked."""

    question: str
    asked: int


@dataclass(frozen=True)
class AnswerStats:
    """What /stats shows: questions today, the last ``days`` days, and the top gaps."""

    today: int
    days: int
    period: Period
    gaps: tuple[Gap, ...]


def summarize(
    log: AnswerLog, days: int = 7, now: datetime | None = None, top: int = DEFAULT_GAPS
) -> AnswerStats:
    """Return today's questions, the counts of the last ``days`` days and their top gaps."""
    today = _day_start(now, 0)
    [(asked_today,)] = log.query("SELECT COUNT(*) FROM answers WHERE asked_at >= ?", (today,))
    return AnswerStats(
        today=int(asked_today),
        days=days,
        period=_period(log, _day_start(now, days - 1), None),
        gaps=tuple(top_gaps(log, days, now, top)),
    )


def daily(log: AnswerLog, days: int, now: datetime | None = None) -> list[tuple[date, Period]]:
    """Return the counts of each of the last ``days`` days (oldest first, today last)."""
    local_now = (now or datetime.now(UTC)).astimezone(VIETNAM)
    result = []
    for back in range(days - 1, -1, -1):
        start, end = _day_start(now, back), _day_start(now, back - 1) if back else None
        result.append(((local_now - timedelta(days=back)).date(), _period(log, start, end)))
    return result


def top_gaps(
    log: AnswerLog, days: int, now: datetime | None = None, top: int = DEFAULT_GAPS
) -> list[Gap]:
    """Return the ``top`` unanswered questions of the last ``days`` days, most asked first."""
    rows = log.query(
        "SELECT MAX(question), COUNT(*) AS asked FROM answers WHERE found = 0 AND asked_at >= ?"
        " AND question_key IS NOT NULL GROUP BY question_key"
        " ORDER BY asked DESC, MAX(asked_at) DESC LIMIT ?",
        (_day_start(now, days - 1), top),
    )
    return [Gap(str(question), int(asked)) for question, asked in rows]


def _period(log: AnswerLog, start: str, end: str | None) -> Period:
    window = "asked_at >= ?" + (" AND asked_at < ?" if end else "")
    params = (start, end) if end else (start,)
    [(questions, answered)] = log.query(
        f"SELECT COUNT(*), COALESCE(SUM(found), 0) FROM answers WHERE {window}", params
    )
    [(up, down)] = log.query(
        "SELECT COALESCE(SUM(value = 1), 0), COALESCE(SUM(value = -1), 0) FROM votes"
        f" WHERE answer_id IN (SELECT id FROM answers WHERE {window})",
        params,
    )
    total, found = int(questions), int(answered)
    return Period(total, found, total - found, int(up), int(down))


def _day_start(now: datetime | None, days_back: int) -> str:
    """Return the start of the Vietnam day ``days_back`` days ago, as the log's UTC text."""
    local = (now or datetime.now(UTC)).astimezone(VIETNAM) - timedelta(days=days_back)
    midnight = datetime(local.year, local.month, local.day, tzinfo=VIETNAM)
    return midnight.astimezone(UTC).isoformat(timespec="seconds")
