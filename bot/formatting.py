"""Hits -> answer text: HTML message parts (each <= 4096, split between quotes) or plain text.

Both renderings carry the same passages, titles, dates, sources and paragraph numbers, so the
terminal chat answers exactly as the bot does. Pure functions, no I/O.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from telegram.constants import MessageLimit

from bot import messages
from index import Chunk, Hit

MAX_MESSAGE_UTF16 = MessageLimit.MAX_TEXT_LENGTH
ELLIPSIS = "…"
MAX_TITLE_CHARS = 300
MAX_SOURCE_CHARS = 100
MAX_URL_CHARS = 1000
# Longer quotes are sent collapsed (<blockquote expandable>), so several sources fit on one
# screen: 600 characters is about 8 lines on a phone.
EXPANDABLE_ABOVE_CHARS = 600
_SEPARATOR = "\n\n"
_WHITESPACE = re.compile(r"\s")
_FULL_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_MONTH = re.compile(r"(\d{4})-(\d{2})")

Spans = Sequence[tuple[int, int]]


def utf16_len(text: str) -> int:
    """Return the length of ``text`` in UTF-16 code units, Telegram's unit of length."""
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    """Escape text for Telegram HTML (``&``, ``<``, ``>``)."""
    return html.escape(text, quote=False)


def format_answer(hits: Sequence[Hit], first_number: int | None = 1, note: str = "") -> list[str]:
    """Return HTML parts quoting ``hits`` in order; ``first_number=None`` leaves them unnumbered.

    Every part is at most 4096 UTF-16 units and holds whole quotes; a quote too long for one
    message is cut on whitespace (before escaping) and ends with an ellipsis.
    """
    blocks = [f"<i>{escape(note)}</i>"] if note else []
    blocks += [_fitted_block(hit, _number(first_number, i)) for i, hit in enumerate(hits)]
    parts: list[str] = []
    for block in blocks:
        joined = parts[-1] + _SEPARATOR + block if parts else block
        if parts and utf16_len(joined) <= MAX_MESSAGE_UTF16:
            parts[-1] = joined
        else:
            parts.append(block)
    return parts


def format_plain(hits: Sequence[Hit], first_number: int | None = 1, note: str = "") -> str:
    """Return the same answer as plain text, for the terminal chat."""
    blocks = [note] if note else []
    for i, hit in enumerate(hits):
        chunk, number = hit.chunk, _number(first_number, i)
        source = _clip(chunk.source, MAX_SOURCE_CHARS)
        url = _link(chunk.url)
        source = f"{source or messages.SOURCE_LINK} ({url})" if url else source
        meta = " · ".join(
            part for part in (_display_date(chunk.date), source, _where(chunk)) if part
        )
        blocks.append(f"{_title(chunk, number)}\n{meta}\n> {chunk.text}")
    return _SEPARATOR.join(blocks)


def truncation_note(truncated: bool, max_chars: int) -> str:
    """Return the note saying the question was cut to ``max_chars``, or '' if it was not."""
    return messages.QUESTION_TRUNCATED.format(max_chars=max_chars) if truncated else ""


def format_not_found(note: str = "") -> str:
    """Return the "nothing relevant" reply, with the truncation note if any (plain text)."""
    return f"{note}\n\n{messages.NOT_FOUND}" if note else messages.NOT_FOUND


def _number(first_number: int | None, offset: int) -> int | None:
    return None if first_number is None else first_number + offset


def _title(chunk: Chunk, number: int | None) -> str:
    title = _clip(chunk.title, MAX_TITLE_CHARS)
    return f"{number}. {title}" if number is not None else title


def _where(chunk: Chunk) -> str:
    if chunk.parts > 1:
        return messages.PARAGRAPH_PART.format(
            paragraph=chunk.paragraph, part=chunk.part, parts=chunk.parts
        )
    return messages.PARAGRAPH.format(paragraph=chunk.paragraph)


def _display_date(date: str) -> str:
    """Show ISO dates the Vietnamese way: 2023-12-13 -> 13/12/2023, 2023-12 -> 12/2023."""
    if match := _FULL_DATE.fullmatch(date):
        return f"{match[3]}/{match[2]}/{match[1]}"
    if match := _MONTH.fullmatch(date):
        return f"{match[2]}/{match[1]}"
    return date


def _link(url: str) -> str:
    """Return ``url`` if it is a usable http(s) link, else ''."""
    return url if url.startswith(("http://", "https://")) and len(url) <= MAX_URL_CHARS else ""


def _clip(text: str, max_chars: int) -> str:
    return text if len(text) <= max_chars else _cut(text, (), max_chars)[0] + ELLIPSIS


def _html_head(chunk: Chunk, number: int | None) -> str:
    source = escape(_clip(chunk.source, MAX_SOURCE_CHARS))
    if url := _link(chunk.url):
        label = source or escape(messages.SOURCE_LINK)
        source = f'<a href="{html.escape(url, quote=True)}">{label}</a>'
    date, where = escape(_display_date(chunk.date)), escape(_where(chunk))
    meta = " · ".join(part for part in (date, source, where) if part)
    return f"<b>{escape(_title(chunk, number))}</b>\n{meta}\n"


def _html_block(head: str, text: str, spans: Spans, cut: bool) -> str:
    tag = "<blockquote expandable>" if len(text) > EXPANDABLE_ABOVE_CHARS else "<blockquote>"
    return f"{head}{tag}{_marked(text, spans)}{ELLIPSIS if cut else ''}</blockquote>"


def _fitted_block(hit: Hit, number: int | None) -> str:
    """Render one quote; if too long, keep the longest whitespace-cut prefix that fits."""
    head, text = _html_head(hit.chunk, number), hit.chunk.text
    block = _html_block(head, text, hit.highlights, cut=False)
    if utf16_len(block) <= MAX_MESSAGE_UTF16:
        return block
    low, high = 0, len(text)
    while low < high:  # the rendered length grows with the number of characters kept
        middle = (low + high + 1) // 2
        if utf16_len(_html_block(head, *_cut(text, hit.highlights, middle), True)) <= (
            MAX_MESSAGE_UTF16
        ):
            low = middle
        else:
            high = middle - 1
    return _html_block(head, *_cut(text, hit.highlights, low), True)


def _cut(text: str, spans: Spans, max_chars: int) -> tuple[str, Spans]:
    """Cut ``text`` at the last whitespace within ``max_chars`` (hard cut if there is none)."""
    spaces = [m.start() for m in _WHITESPACE.finditer(text, 0, max_chars + 1)]
    end = len(text[: spaces[-1] if spaces else max_chars].rstrip())
    return text[:end], [(start, min(stop, end)) for start, stop in spans if start < end]


def _marked(text: str, spans: Spans) -> str:
    """Escape ``text`` with the ``spans`` in bold; spans separated only by spaces merge."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        start, end = max(start, merged[-1][1] if merged else 0), min(end, len(text))
        if start >= end:
            continue
        if merged and not text[merged[-1][1] : start].strip():
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    out, position = [], 0
    for start, end in merged:
        out += [escape(text[position:start]), f"<b>{escape(text[start:end])}</b>"]
        position = end
    return "".join(out) + escape(text[position:])
