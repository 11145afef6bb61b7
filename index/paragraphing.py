"""From articles to what the stores hold: chunks, their indexed texts and their vectors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from index.cache import EmbeddingCache, text_key
from index.chunking import DEFAULT_MAX_CHARS, split_article
from index.embedding import Embedder
from index.models import Article, Chunk
from index.text import canonical_text

# (stage, done, total): stages are "read", "embed" and "write".
BuildProgress = Callable[[str, int, int], None]


def chunk_input(chunk: Chunk) -> str:
    """Return the text embedded and BM25-indexed for a chunk: its title, then its words."""
    return canonical_text(f"{chunk.title}. {chunk.text}" if chunk.title else chunk.text)


@dataclass(frozen=True)
class Work:
    """How to turn articles into stored paragraphs: model, cache, progress, chunking."""

    embedder: Embedder
    cache: EmbeddingCache | None
    progress: BuildProgress | None
    max_chars: int

    def report(self, stage: str, done: int, total: int) -> None:
        """Pass progress on, if anyone listens."""
        if self.progress:
            self.progress(stage, done, total)

    def paragraphs(
        self, articles: list[Article]
    ) -> tuple[list[Chunk], list[str], np.ndarray, int]:
        """Return (chunks, their texts, their vectors, how many were embedded)."""
        chunks = build_chunks(articles, self.max_chars)
        inputs = [chunk_input(c) for c in chunks]
        vectors, embedded = embed_with_cache(self.embedder, inputs, self.cache, self.progress)
        return chunks, inputs, vectors, embedded


CACHE_BLOCK = 8_192  # passages embedded between two writes to the cache (a few minutes)


def build_chunks(articles: list[Article], max_chars: int = DEFAULT_MAX_CHARS) -> list[Chunk]:
    """Split every article into chunks, in article order."""
    return [chunk for article in articles for chunk in split_article(article, max_chars)]


def embed_with_cache(
    embedder: Embedder,
    inputs: list[str],
    cache: EmbeddingCache | None,
    progress: BuildProgress | None = None,
) -> tuple[np.ndarray, int]:
    """Embed ``inputs``, reusing cached vectors; return (vectors, how many were computed)."""
    keys = [text_key(text) for text in inputs]
    known = cache.get_many(embedder.fingerprint, keys, embedder.dim) if cache else {}
    missing = sorted({k: i for i, k in enumerate(keys) if k not in known}.values())
    done = len(inputs) - len(missing)
    if progress:
        progress("embed", done, len(inputs))

    def advance(count: int) -> None:
        nonlocal done
        done += count
        if progress:
            progress("embed", done, len(inputs))

    # In blocks, each cached as soon as it is embedded: a build stopped after an hour of
    # embedding resumes where it stopped instead of starting again.
    for start in range(0, len(missing), CACHE_BLOCK):
        block = missing[start : start + CACHE_BLOCK]
        fresh = embedder.embed_chunks([inputs[i] for i in block], advance)
        new = {keys[i]: fresh[row] for row, i in enumerate(block)}
        if cache:
            cache.put_many(embedder.fingerprint, new)
        known.update(new)
    vectors = (
        np.stack([known[k] for k in keys]) if keys else np.zeros((0, embedder.dim), np.float32)
    )
    return vectors.astype(np.float32), len(missing)
