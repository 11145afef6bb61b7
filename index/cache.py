"""Embedding cache: vectors keyed by (model fingerprint, SHA-256 of the embedded text), in SQLite.

Rebuilding after adding one article then embeds only that article's chunks.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

DEFAULT_CACHE_FILE = Path("var/cache/embeddings.sqlite")


def text_key(text: str) -> str:
    """Return the cache key of an embedded text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """A persistent map (model fingerprint, text hash) -> float32 vector."""

    def __init__(self, path: Path) -> None:
        """Open (or create) the cache file at ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS vectors (model TEXT, key TEXT, vector BLOB,"
            " PRIMARY KEY (model, key))"
        )

    def get_many(self, model: str, keys: Sequence[str], dim: int) -> dict[str, np.ndarray]:
        """Return the cached vectors among ``keys`` (missing keys are absent)."""
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), 500):
            part = list(keys[start : start + 500])
            marks = ",".join("?" * len(part))
            rows = self._db.execute(
                f"SELECT key, vector FROM vectors WHERE model = ? AND key IN ({marks})",
                [model, *part],
            )
            for key, blob in rows:
                vector = np.frombuffer(blob, dtype=np.float32)
                if vector.shape == (dim,):
                    found[key] = vector
        return found

    def put_many(self, model: str, items: dict[str, np.ndarray]) -> None:
        """Store vectors (float32) under their keys."""
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                [
                    (model, key, np.asarray(v, dtype=np.float32).tobytes())
                    for key, v in items.items()
                ],
            )

    def close(self) -> None:
        """Close the database."""
        self._db.close()
