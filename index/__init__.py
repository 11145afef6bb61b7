"""Retrieval core of the Vietnamese news QA bot: articles → chunks → FAISS + BM25 → quoted hits.

This package never imports ``telegram`` or ``bot``; the bot imports only the names below.
"""

from __future__ import annotations

__version__ = "0.1.0"

from index.answerlog import DEFAULT_ANSWER_LOG, DOWN, UP, AnswerLog, LoggedAnswer, Vote
from index.answerstats import VIETNAM, AnswerStats, Gap, Period, daily, summarize, top_gaps
from index.asking import MAX_PAGES, Answer, Asking, Origin, Question, clean_question
from index.bundled import BUNDLED_MODEL
from index.cache import DEFAULT_CACHE_FILE, EmbeddingCache
from index.embedding import DEFAULT_CACHE_DIR, DEFAULT_MODEL, Embedder, SentenceTransformerEmbedder
from index.embedworker import ChildProcessEmbedder
from index.errors import (
    DataFormatError,
    IndexNotBuiltError,
    ModelMismatchError,
    ModelUnavailableError,
    RetrievalError,
    SearchUnavailableError,
)
from index.ingest import MAX_ARTICLE_BYTES
from index.models import Article, Chunk, Hit
from index.pipeline import (
    DEFAULT_DATA_DIR,
    DEFAULT_INDEX_DIR,
    BuildProgress,
    BuildReport,
    build_index,
    load_index,
    load_or_build_index,
)
from index.progress import ProgressBar
from index.search import DEFAULT_MIN_CONFIDENCE, DEFAULT_TOP_K, Searcher, SearchSettings
from index.settings import SettingsError, WebSettings, read_env_file
from index.store import Manifest
from index.text import canonical_text, fold, normalize_text
from index.updateworker import update_index
from index.web import (
    MAX_UPLOAD_BYTES,
    UPLOAD_SUFFIXES,
    Failure,
    FetchedArticle,
    Fetcher,
    FetchError,
    FetchReport,
    UploadReport,
    fetch_urls,
    remove_article,
    save_post,
    save_upload,
)

__all__ = [
    "BUNDLED_MODEL",
    "DEFAULT_ANSWER_LOG",
    "DEFAULT_CACHE_DIR",
    "DEFAULT_CACHE_FILE",
    "DEFAULT_DATA_DIR",
    "DEFAULT_INDEX_DIR",
    "DEFAULT_MIN_CONFIDENCE",
    "DEFAULT_MODEL",
    "DEFAULT_TOP_K",
    "DOWN",
    "MAX_ARTICLE_BYTES",
    "MAX_PAGES",
    "MAX_UPLOAD_BYTES",
    "UP",
    "UPLOAD_SUFFIXES",
    "VIETNAM",
    "Answer",
    "AnswerLog",
    "AnswerStats",
    "Article",
    "Asking",
    "BuildProgress",
    "BuildReport",
    "ChildProcessEmbedder",
    "Chunk",
    "DataFormatError",
    "Embedder",
    "EmbeddingCache",
    "Failure",
    "FetchError",
    "FetchReport",
    "FetchedArticle",
    "Fetcher",
    "Gap",
    "Hit",
    "IndexNotBuiltError",
    "LoggedAnswer",
    "Manifest",
    "ModelMismatchError",
    "ModelUnavailableError",
    "Origin",
    "Period",
    "ProgressBar",
    "Question",
    "RetrievalError",
    "SearchSettings",
    "SearchUnavailableError",
    "Searcher",
    "SentenceTransformerEmbedder",
    "SettingsError",
    "UploadReport",
    "Vote",
    "WebSettings",
    "build_index",
    "canonical_text",
    "clean_question",
    "daily",
    "fetch_urls",
    "fold",
    "load_index",
    "load_or_build_index",
    "normalize_text",
    "read_env_file",
    "remove_article",
    "save_post",
    "save_upload",
    "summarize",
    "top_gaps",
    "update_index",
]
