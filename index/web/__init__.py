"""The archive from the web and from chat: feeds, sitemaps, article pages, files and posts.

One job per module: ``safety`` (which URLs), ``fetching`` (polite HTTP), ``extraction``,
``discovery`` (feeds and sitemaps -> links), ``archive`` (article files in ``data/``),
``state`` (what was fetched), ``sync`` (a fetch run), ``uploads`` (files and posts from chat),
``removal`` (articles taken out).
"""

from __future__ import annotations

from index.web.fetching import Fetcher
from index.web.removal import remove_article
from index.web.safety import FetchError
from index.web.sync import Failure, FetchedArticle, FetchReport, fetch_urls
from index.web.uploads import (
    MAX_UPLOAD_BYTES,
    UPLOAD_SUFFIXES,
    UploadReport,
    save_post,
    save_upload,
)

__all__ = [
    "MAX_UPLOAD_BYTES",
    "UPLOAD_SUFFIXES",
    "Failure",
    "FetchError",
    "FetchReport",
    "FetchedArticle",
    "Fetcher",
    "UploadReport",
    "fetch_urls",
    "remove_article",
    "save_post",
    "save_upload",
]
