"""Retrieval core of the Vietnamese news QA bot: articles → chunks → FAISS + BM25 → quoted hits.

This package never imports ``telegram`` or ``bot``; the bot imports only the names below.
"""

from __future__ import annotations

__version__ = "0.1.0"

from index.bundled import BUNDLED_MODEL
from index.cache import DEFAULT_CACHE_FILE, EmbeddingCache
from index.embedding import DEFAULT_CACHE_DIR, DEFAULT_MODEL, Embedder, SentenceTransformerEmbedder
from index.errors import (
    DataFormatError,
    IndexNotBuiltError,
    ModelMismatchError,
    ModelUnavailableError,
    RetrievalError,
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
from index.search import DEFAULT_TOP_K, Searcher, SearchSettings
from index.store import Manifest
from index.text import canonical_text, fold, normalize_text

__all__ = [
    "BUNDLED_MODEL",
    "DEFAULT_CACHE_DIR",
    "DEFAULT_CACHE_FILE",
    "DEFAULT_DATA_DIR",
    "DEFAULT_INDEX_DIR",
    "DEFAULT_MODEL",
    "DEFAULT_TOP_K",
    "MAX_ARTICLE_BYTES",
    "Article",
    "BuildProgress",
    "BuildReport",
    "Chunk",
    "DataFormatError",
    "Embedder",
    "EmbeddingCache",
    "Hit",
    "IndexNotBuiltError",
    "Manifest",
    "ModelMismatchError",
    "ModelUnavailableError",
    "ProgressBar",
    "RetrievalError",
    "SearchSettings",
    "Searcher",
    "SentenceTransformerEmbedder",
    "build_index",
    "canonical_text",
    "fold",
    "load_index",
    "load_or_build_index",
    "normalize_text",
]
