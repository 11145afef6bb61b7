"""Files and channel posts sent to the bot, saved into the archive as article files.

A ``.md``/``.txt``/``.jsonl`` file is kept as sent (read back with the same rules as every
file in ``data/``, so the reply can list what was added and which lines were skipped); an
``.html`` page is extracted like a fetched page and saved as ``.md``.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePath

from index.errors import RetrievalError
from index.ingest import load_articles
from index.models import Article
from index.web.archive import render_article, slug, write_text_atomically
from index.web.extraction import decode_html, extract_article
from index.web.safety import FetchError

UPLOADS_DIR = "uploads"
TELEGRAM_DIR = "telegram"
UPLOAD_SUFFIXES = (".md", ".txt", ".html", ".htm", ".jsonl")
MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # the Bot API's download limit for bots


@dataclass(frozen=True)
class UploadReport:
    """What a saved file holds: its path, the articles read, the lines skipped (messages)."""

    path: Path
    articles: tuple[Article, ...]
    problems: tuple[str, ...]


def save_upload(data_dir: Path, filename: str, content: bytes) -> UploadReport:
    """Save a file sent in chat into ``data_dir/uploads/``; a same-named file is replaced.

    Raises:
        RetrievalError: unsupported type, too large, or no readable article in it (nothing
            is saved then).
    """
    name = PurePath(filename).name
    suffix = PurePath(name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise RetrievalError(f"{name}: not an article file; send {', '.join(UPLOAD_SUFFIXES)}.")
    if len(content) > MAX_UPLOAD_BYTES:
        raise RetrievalError(f"{name}: larger than {MAX_UPLOAD_BYTES // 1024 // 1024} MB.")
    relative = Path(UPLOADS_DIR, f"{slug(PurePath(name).stem, 'upload')}{suffix}")
    if suffix in (".html", ".htm"):
        content = _html_as_article(name, content).encode()
        relative = relative.with_suffix(".md")
    with tempfile.TemporaryDirectory() as scratch:
        trial = Path(scratch) / relative
        trial.parent.mkdir(parents=True)
        trial.write_bytes(content)
        loaded = load_articles(Path(scratch))
        problems = tuple(str(p).replace(str(trial), relative.name) for p in loaded.problems)
        if not loaded.articles:
            raise RetrievalError("; ".join(problems) or f"{name}: no article in the file.")
        (data_dir / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(trial, data_dir / relative)
    return UploadReport(data_dir / relative, tuple(loaded.articles), problems)


def save_post(
    data_dir: Path, channel: str, post_id: int, article: Article
) -> tuple[Path, Article]:
    """Save a post forwarded from ``channel`` as ``telegram/<channel>/<post_id>.md``.

    Returns:
        The file written and the article as the index will read it (its id is the path).
    """
    relative = Path(TELEGRAM_DIR, slug(channel, "channel"), f"{post_id}.md")
    text = render_article(
        article.title, article.paragraphs, article.date, article.source, article.url
    )
    write_text_atomically(data_dir / relative, text)
    return data_dir / relative, Article(
        article_id=relative.with_suffix("").as_posix(),
        title=article.title,
        paragraphs=article.paragraphs,
        date=article.date,
        source=article.source,
        url=article.url,
        origin=str(data_dir / relative),
    )


def _html_as_article(name: str, content: bytes) -> str:
    try:
        found = extract_article(decode_html(content, "", name), "")
    except FetchError as exc:
        raise RetrievalError(f"{name}: {exc.reason}.") from None
    return render_article(found.title, found.paragraphs, found.date, found.source, found.url)
