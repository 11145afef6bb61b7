"""``python -m bot report --days 30``: the /stats figures as CSV, for the newsroom.

One table: a ``day`` row per day (Vietnam time, oldest first), a ``total`` row, then the
``unanswered`` questions of the period, most asked first (the archive's gaps).
"""

from __future__ import annotations

import csv
from datetime import datetime
from typing import TextIO

from index import AnswerLog, Period, daily, top_gaps

COLUMNS = ("row", "label", "questions", "answered", "not_found", "thumbs_up", "thumbs_down")
MAX_GAPS = 100


def write_report(log: AnswerLog, days: int, out: TextIO, now: datetime | None = None) -> None:
    """Write the counts of the last ``days`` days and their unanswered questions to ``out``."""
    if days < 1:
        raise ValueError(f"--days must be at least 1, not {days}")
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    per_day = daily(log, days, now)
    for day, period in per_day:
        writer.writerow(["day", day.isoformat(), *_counts(period)])
    rows = [_counts(period) for _, period in per_day]
    total = Period(*(sum(column) for column in zip(*rows, strict=True)))
    writer.writerow(["total", f"{days} days", *_counts(total)])
    for gap in top_gaps(log, days, now, MAX_GAPS):
        writer.writerow(["unanswered", gap.question, gap.asked, 0, gap.asked, "", ""])


def _counts(period: Period) -> list[int]:
    return [
        period.questions,
        period.answered,
        period.not_found,
        period.thumbs_up,
        period.thumbs_down,
    ]
