"""Read articles from ``data/``: one ``.txt``/``.md`` file per article, or bulk ``.jsonl`` files.

A malformed file or row is skipped and reported as a :class:`DataFormatError` naming the
file and line; one bad file never fails the whole load.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from index.errors import DataFormatError
from index.models import Article
from index.text import normalize_text

logger = logging.getLogger(__name__)

ARTICLE_SUFFIXES = (".txt", ".md")
BULK_SUFFIX = ".jsonl"
HEADER_KEYS = ("id", "title", "date", "source", "url")
_HEADER_LINE = re.compile(r"^(id|title|date|source|url)\s*:\s*(.*)$", re.IGNORECASE)
_BLANK_LINES = re.compile(r"\n[ \t\r\f\v]*\n")
_ANY_NEWLINES = re.compile(r"\n+")


@dataclass
class IngestResult:
    """Articles read from a data directory, and the problems met on the way."""

    articles: list[Article] = field(default_factory=list)
    problems: list[DataFormatError] = field(default_factory=list)


def load_articles(data_dir: Path, paths: Collection[Path] | None = None) -> IngestResult:
    """Read every article file and JSONL row under ``data_dir`` (recursively, sorted).

    ``paths`` limits the read to those files (an incremental update re-reads changed files).
    """
    if not data_dir.is_dir():
        raise DataFormatError(
            str(data_dir), None, "data directory not found; create it or set DATA_DIR."
        )
    result = IngestResult()
    seen: set[str] = set()
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file()):
        if paths is not None and path not in paths:
            continue
        if path.name.startswith(".") or path.name.lower() == "readme.md":
            continue
        suffix = path.suffix.lower()
        if suffix in ARTICLE_SUFFIXES:
            found = _read_article_file(path, data_dir, result.problems)
        elif suffix == BULK_SUFFIX:
            found = list(_read_bulk_file(path, result.problems))
        else:
            continue
        for article in found:
            if article.article_id in seen:
                result.problems.append(
                    DataFormatError(
                        article.origin,
                        None,
                        f'duplicate article id "{article.article_id}"; the first one is kept.',
                    )
                )
                continue
            seen.add(article.article_id)
            result.articles.append(article)
    for problem in result.problems:
        logger.warning("skipped: %s", problem)
    return result


def _read_text(path: Path, problems: list[DataFormatError]) -> str | None:
    raw = path.read_bytes()
    if b"\x00" in raw:
        problems.append(
            DataFormatError(str(path), None, "binary file (NUL bytes); not an article.")
        )
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problems.append(
            DataFormatError(str(path), line, "not valid UTF-8; re-save the file as UTF-8.")
        )
        return None
    if not text.strip():
        problems.append(DataFormatError(str(path), None, "empty file."))
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _read_article_file(path: Path, root: Path, problems: list[DataFormatError]) -> list[Article]:
    text = _read_text(path, problems)
    if text is None:
        return []
    header, body = _split_header(text)
    paragraphs = _paragraphs(body, _BLANK_LINES)
    if not paragraphs:
        problems.append(DataFormatError(str(path), None, "no paragraphs after the header."))
        return []
    article_id = header.get("id") or path.relative_to(root).with_suffix("").as_posix()
    return [
        Article(
            article_id=article_id,
            title=normalize_text(header.get("title", "")) or path.stem,
            paragraphs=paragraphs,
            date=header.get("date", ""),
            source=normalize_text(header.get("source", "")),
            url=header.get("url", ""),
            origin=str(path),
        )
    ]


def _split_header(text: str) -> tuple[dict[str, str], str]:
    """Split ``key: value`` lines at the top (ended by a blank line or ``---``) from the body."""
    header: dict[str, str] = {}
    lines = text.lstrip("\n").split("\n")
    for i, line in enumerate(lines):
        match = _HEADER_LINE.match(line.strip())
        if match:
            header[match.group(1).lower()] = match.group(2).strip()
        elif line.strip() in ("", "---"):
            return header, "\n".join(lines[i + 1 :])
        else:
            return header, "\n".join(lines[i:])
    return header, ""


def _paragraphs(body: str, separator: re.Pattern[str]) -> tuple[str, ...]:
    parts = (normalize_text(part) for part in separator.split(body))
    return tuple(part for part in parts if part)


def _read_bulk_file(path: Path, problems: list[DataFormatError]) -> Iterator[Article]:
    text = _read_text(path, problems)
    if text is None:
        return
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            yield _article_from_row(path, number, line)
        except DataFormatError as problem:
            problems.append(problem)


def _article_from_row(path: Path, number: int, line: str) -> Article:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DataFormatError(
            str(path), number, f"broken JSON ({exc.msg}); fix the row or remove it."
        ) from None
    if not isinstance(row, dict):
        raise DataFormatError(
            str(path), number, "expected a JSON object; fix the row or remove it."
        )
    body = row.get("text")
    if not isinstance(body, str) or not body.strip():
        raise DataFormatError(
            str(path), number, 'field "text" is missing or empty; fix the row or remove it.'
        )
    fields = {key: row.get(key) for key in HEADER_KEYS}
    for key, value in fields.items():
        if value is not None and not isinstance(value, str | int):
            raise DataFormatError(str(path), number, f'field "{key}" must be a string.')
    return Article(
        article_id=str(fields["id"])
        if fields["id"] not in (None, "")
        else f"{path.stem}:{number}",
        title=normalize_text(str(fields["title"] or "")),
        paragraphs=_paragraphs(body, _ANY_NEWLINES),
        date=str(fields["date"] or ""),
        source=normalize_text(str(fields["source"] or "")),
        url=str(fields["url"] or ""),
        origin=f"{path}:{number}",
    )
