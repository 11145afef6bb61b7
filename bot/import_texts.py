"""HTML replies to admins bringing articles in: added, failed, file saved, sync counts. Pure."""

from __future__ import annotations

from bot import messages
from bot.formatting import escape
from index import Article, Failure, FetchReport, UploadReport

MAX_LISTED = 10
MAX_FIRST_PARAGRAPH_CHARS = 400


def format_added(article: Article, changed: bool) -> str:
    """Return "Đã thêm: <title> (N đoạn)" and the first paragraph quoted."""
    head = messages.UPDATED if changed else messages.ADDED
    text = head.format(title=article.title, paragraphs=len(article.paragraphs))
    first = shorten(article.paragraphs[0], MAX_FIRST_PARAGRAPH_CHARS)
    return f"{escape(text)}\n<blockquote>{escape(first)}</blockquote>"


def format_fetch(report: FetchReport) -> str:
    """Return the reply to links: each article added, each failure, or "nothing new"."""
    parts = []
    for fetched in report.articles[:MAX_LISTED]:
        article = Article("", fetched.title, (fetched.first_paragraph,) * fetched.paragraphs)
        parts.append(format_added(article, fetched.changed))
    parts += [format_failure(failure) for failure in report.failures[:MAX_LISTED]]
    if not parts:
        parts.append(escape(messages.NOTHING_NEW.format(count=report.unchanged)))
    return "\n\n".join(parts)


def format_sync(report: FetchReport) -> str:
    """Return the /sync result: the counts, then each failure with its URL."""
    text = messages.SYNC_DONE.format(
        seconds=f"{report.seconds:.1f}".replace(".", ","),
        new=report.new,
        changed=report.changed,
        unchanged=report.unchanged,
        failed=report.failed,
    )
    failures = ["• " + format_failure(f) for f in report.failures[:MAX_LISTED]]
    return "\n".join([escape(text), *failures])


def format_failure(failure: Failure) -> str:
    """Return "Không thêm được <url>: <reason in Vietnamese> (<the fetcher's words>)"."""
    said = next((vi for words, vi in messages.FETCH_REASONS if words in failure.reason), "")
    reason = f"{said} ({failure.reason})" if said else failure.reason
    return escape(messages.NOT_ADDED.format(url=failure.url, reason=reason))


def format_upload(name: str, saved: UploadReport) -> str:
    """Return the reply to a file: what was added, then the lines skipped."""
    lines = [escape(messages.UPLOAD_SAVED.format(name=name, count=len(saved.articles)))]
    lines += [
        escape(messages.UPLOAD_ARTICLE.format(title=a.title, paragraphs=len(a.paragraphs)))
        for a in saved.articles[:MAX_LISTED]
    ]
    if saved.problems:
        lines += [escape(messages.UPLOAD_SKIPPED)]
        lines += [f"• <code>{escape(p)}</code>" for p in saved.problems[:MAX_LISTED]]
    return "\n".join(lines)


def shorten(text: str, max_chars: int) -> str:
    """Return ``text`` cut on a word boundary to at most ``max_chars`` (plus an ellipsis)."""
    if len(text) <= max_chars:
        return text
    return text[:max_chars].rsplit(" ", 1)[0] + "…"
