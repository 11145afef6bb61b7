"""HTML texts of the commands: /help, /reindex progress and report, /stats. Pure functions."""

from __future__ import annotations

import errno
from datetime import UTC, datetime
from pathlib import Path

from bot import messages
from bot.formatting import escape
from index import AnswerStats, BuildReport, Manifest

MAX_PROBLEMS_SHOWN = 5
MAX_GAP_CHARS = 300


def format_help(username: str) -> str:
    """Return /help: how to ask, the command list (the one setMyCommands gets), examples."""
    lines = [escape(messages.HELP_INTRO.format(username=username)), "", messages.HELP_COMMANDS]
    lines += [f"/{name} — {escape(text)}" for name, text in messages.COMMANDS]
    lines += ["", messages.HELP_ADMIN_COMMANDS]
    lines += [f"/{name} — {escape(text)}" for name, text in messages.ADMIN_COMMANDS]
    lines += ["", messages.HELP_EXAMPLES]
    lines += [f"• <i>{escape(question)}</i>" for question in messages.EXAMPLE_QUESTIONS]
    return "\n".join(lines)


def format_progress(stage: str, done: int, total: int) -> str:
    """Return the text of the /reindex progress message for a build stage."""
    if stage == "read":
        return messages.REINDEX_READING.format(done=done, total=total)
    if stage == "embed":
        return messages.REINDEX_EMBEDDING.format(done=done, total=total)
    if stage == "write":
        return messages.REINDEX_WRITING
    return messages.REINDEX_STARTED


def format_report(report: BuildReport) -> str:
    """Return the /reindex result: counts, changed paragraphs, skipped input, time."""
    text = messages.REINDEX_DONE.format(
        articles=report.articles,
        chunks=report.chunks,
        added=report.added,
        changed=report.changed,
        removed=report.removed,
        skipped=len(report.problems),
        seconds=f"{report.seconds:.1f}".replace(".", ","),
    )
    shown = [f"• <code>{escape(problem)}</code>" for problem in report.problems]
    return "\n".join([escape(text), *shown[:MAX_PROBLEMS_SHOWN]])


def format_failure(reason: str | None) -> str:
    """Return the /reindex failure text; ``reason`` is the operator-facing error, if any."""
    if reason is None:
        return escape(messages.REINDEX_FAILED_GENERIC)
    return escape(messages.REINDEX_FAILED.format(reason=reason))


_STORAGE_CAUSES = {
    errno.EROFS: messages.STORAGE_READ_ONLY,
    errno.ENOSPC: messages.STORAGE_FULL,
    errno.EDQUOT: messages.STORAGE_FULL,
    errno.EACCES: messages.STORAGE_NO_PERMISSION,
    errno.EPERM: messages.STORAGE_NO_PERMISSION,
    errno.ENOTDIR: messages.STORAGE_NOT_A_DIRECTORY,
}


def format_storage_failure(error: OSError, default_path: Path) -> str:
    """Return the /reindex failure for a write that failed: the path and the cause, in words."""
    cause = _STORAGE_CAUSES.get(error.errno or 0)
    cause = cause or messages.STORAGE_OTHER.format(error=error.strerror or error)
    path = error.filename or default_path
    return escape(messages.REINDEX_STORAGE_FAILED.format(path=path, cause=cause))


def format_stats(
    manifest: Manifest, questions: int, figures: AnswerStats, now: datetime | None = None
) -> str:
    """Return /stats: the index, questions today and of the last days, answered share, votes,
    and the most asked questions the archive could not answer."""
    built = _parse_time(manifest.built_at)
    age = (now or datetime.now(UTC)) - built if built else None
    period = figures.period
    text = messages.STATS.format(
        articles=manifest.articles,
        chunks=manifest.count,
        model=manifest.model,
        built_at=built.astimezone(UTC).strftime("%d/%m/%Y %H:%M UTC")
        if built
        else manifest.built_at,
        age=_format_age(age.total_seconds()) if age is not None else "?",
        questions=questions,
        today=figures.today,
        days=figures.days,
        period=period.questions,
        answered=period.answered,
        answered_pct=_percent(period.answered, period.questions),
        not_found=period.not_found,
        not_found_pct=_percent(period.not_found, period.questions),
        up=period.thumbs_up,
        down=period.thumbs_down,
    )
    return "\n".join([escape(text), "", *_format_gaps(figures)])


def _format_gaps(figures: AnswerStats) -> list[str]:
    """The most asked unanswered questions, numbered (HTML lines)."""
    if not figures.gaps:
        return [escape(messages.STATS_NO_GAPS.format(days=figures.days))]
    lines = [escape(messages.STATS_GAPS.format(days=figures.days))]
    for number, gap in enumerate(figures.gaps, start=1):
        question = gap.question[:MAX_GAP_CHARS]
        line = messages.STATS_GAP.format(number=number, question=question, asked=gap.asked)
        lines.append(escape(line))
    return lines


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}" if whole else "0"


def _parse_time(iso: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _format_age(seconds: float) -> str:
    minutes = max(int(seconds // 60), 0)
    if minutes < 60:
        return messages.AGE_MINUTES.format(count=minutes)
    if minutes < 24 * 60:
        return messages.AGE_HOURS.format(count=minutes // 60)
    return messages.AGE_DAYS.format(count=minutes // (24 * 60))
