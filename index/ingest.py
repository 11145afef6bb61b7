"""Read articles from ``data/``: one ``.txt``/``.md`` file per article, or bulk ``.jsonl`` files.

A malformed file or row is skipped and reported as a :class:`DataFormatError` naming the
file and line; one bad file never fails the whole load, and one bad JSONL row costs only
that row. Files whose names are not UTF-8, and articles over ``MAX_ARTICLE_BYTES``, are
skipped the same way.
"""

from __future__ import annotations

import codecs
import html
import json
import logging
import os
import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from index.errors import DataFormatError
from index.models import Article
from index.text import normalize_text

logger = logging.getLogger(__name__)

ARTICLE_SUFFIXES = (".txt", ".md")
BULK_SUFFIX = ".jsonl"
HEADER_KEYS = ("id", "title", "date", "source", "url")
# A news article is a few to a few hundred KB; a multi-megabyte "article" is a dump or a mistake,
# and chunking it alone stalls a rebuild for a minute (issue 11: 50 MB took 60 s and +730 MB).
MAX_ARTICLE_BYTES = 5_000_000
_HEADER_LINE = re.compile(r"^(id|title|date|source|url)\s*:\s*(.*)$", re.IGNORECASE)
_BLANK_LINES = re.compile(r"\n[ \t\r\f\v]*\n")
_ANY_NEWLINES = re.compile(r"\n+")


@dataclass
class IngestResult:
    """Articles read from a data directory, and the problems met on the way."""

    articles: list[Article] = field(default_factory=list)
    problems: list[DataFormatError] = field(default_factory=list)


def load_articles(
    data_dir: Path,
    max_article_bytes: int = MAX_ARTICLE_BYTES,
    progress: Callable[[int, int], None] | None = None,
    only: Collection[Path] | None = None,
) -> IngestResult:
    """Read every article file and JSONL row under ``data_dir`` (recursively, sorted).

    Args:
        data_dir: the directory of ``.txt``/``.md`` article files and ``.jsonl`` bulk files.
        max_article_bytes: larger article files and JSONL rows are skipped with a problem.
        progress: called with (files read, files in total) after each file.
        only: read just these files (an incremental update re-reads the changed ones).

    Returns:
        The articles, and a problem for every file or row skipped.

    Raises:
        DataFormatError: ``data_dir`` is not a directory.
    """
    if not data_dir.is_dir():
        raise DataFormatError(
            str(data_dir), None, "data directory not found; create it or set DATA_DIR."
        )
    result = IngestResult()
    seen: set[str] = set()
    paths = sorted(p for p in data_dir.rglob("*") if p.is_file() and (only is None or p in only))
    for number, path in enumerate(paths, start=1):
        if progress:
            progress(number - 1, len(paths))
        if path.name.startswith(".") or path.name.lower() == "readme.md":
            continue
        suffix = path.suffix.lower()
        if suffix not in (*ARTICLE_SUFFIXES, BULK_SUFFIX) or _bad_name(path, result.problems):
            continue
        if suffix == BULK_SUFFIX:
            found = list(_read_bulk_file(path, result.problems, max_article_bytes))
        elif _too_big(path, path.stat().st_size, max_article_bytes, None, result.problems):
            continue
        else:
            found = _read_article_file(path, data_dir, result.problems)
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
    if progress:
        progress(len(paths), len(paths))
    for problem in result.problems:
        logger.warning("skipped: %s", problem)
    return result


def _bad_name(path: Path, problems: list[DataFormatError]) -> bool:
    """Report (and skip) a file whose name is not UTF-8: it could not be stored or shown."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(path).decode("utf-8", "backslashreplace")
        problems.append(
            DataFormatError(shown, None, "file name is not valid UTF-8; rename the file.")
        )
        return True
    return False


def _too_big(
    path: Path, size: int, limit: int, line: int | None, problems: list[DataFormatError]
) -> bool:
    if size <= limit:
        return False
    what = "row" if line is not None else "article file"
    problems.append(
        DataFormatError(
            str(path),
            line,
            f"{what} of {size:,} bytes is over MAX_ARTICLE_BYTES ({limit:,}); "
            "split it or raise the limit.",
        )
    )
    return True


def _read_text(path: Path, problems: list[DataFormatError], allow_nul: bool = False) -> str | None:
    raw = path.read_bytes()
    # Windows Notepad's "Unicode" is UTF-16 with a BOM: full of NUL bytes, yet text.
    utf16 = raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if b"\x00" in raw and not utf16 and not allow_nul:
        problems.append(
            DataFormatError(str(path), None, "binary file (NUL bytes); not an article.")
        )
        return None
    try:
        text = raw.decode("utf-16" if utf16 else "utf-8-sig")
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
    # Web text pasted into files carries &nbsp; &amp; &quot; ...: readers must see the characters.
    header, body = _split_header(html.unescape(text))
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


def _read_bulk_file(
    path: Path, problems: list[DataFormatError], max_row_bytes: int
) -> Iterator[Article]:
    text = _read_text(path, problems, allow_nul=True)
    if text is None:
        return
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip() or _too_big(path, len(line), max_row_bytes, number, problems):
            continue
        if "\x00" in line:
            problems.append(
                DataFormatError(
                    str(path), number, "NUL byte in the row; fix the row or remove it."
                )
            )
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
    body = html.unescape(body)
    fields = {key: _unescaped(row.get(key)) for key in HEADER_KEYS}
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


def _unescaped(value: object) -> object:
    """Decode HTML character references in a string field; other values are left as they are."""
    return html.unescape(value) if isinstance(value, str) else value
