"""Remove an article from the archive: its file, and (for a fetched page) its fetch record.

A removed web article is remembered as removed, so the next fetch of its feed or sitemap does
not bring it back; fetching its URL alone (``python -m index fetch URL``, ``/add URL``) does.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from index.errors import RetrievalError
from index.ingest import load_articles
from index.models import Article
from index.web.state import FetchState


def remove_article(data_dir: Path, key: str) -> Article:
    """Delete the article file whose id or url is ``key``; return the article it held.

    Raises:
        RetrievalError: no such article, or it is a row of a bulk ``.jsonl`` file.
    """
    wanted = key.strip()
    for article in load_articles(data_dir).articles:
        if wanted not in (article.article_id, article.url) or not article.origin:
            continue
        path = Path(article.origin)
        if not path.is_file():
            raise RetrievalError(
                f"{article.origin}: the article is a line of a bulk file; remove that line."
            )
        path.unlink()
        _mark_removed(data_dir, path)
        return article
    raise RetrievalError(f"No article with id or url {wanted!r} in {data_dir}.")


def _mark_removed(data_dir: Path, path: Path) -> None:
    state = FetchState(data_dir)
    relative = path.relative_to(data_dir).as_posix()
    urls = [url for url, record in state.records.items() if record.path == relative]
    for url in urls:
        state.put(url, replace(state.records[url], removed=True))
    if urls:
        state.save()
