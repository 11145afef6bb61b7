"""Embedding cache: vectors keyed by (model fingerprint, SHA-256 of the embedded text), in SQLite.

Rebuilding after adding one article then embeds only that article's chunks. The cache is an
optimisation, never a reason to stop: a corrupt file is moved aside and started afresh, and a
cache that cannot be opened or written (read-only, disk full) is skipped with a warning.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

DEFAULT_CACHE_FILE = Path("var/cache/embeddings.sqlite")
CORRUPT_SUFFIX = ".corrupt"


def text_key(text: str) -> str:
    """Return the cache key of an embedded text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """A persistent map (model fingerprint, text hash) -> float32 vector."""

    def __init__(self, path: Path) -> None:
        """Open (or create) the cache file at ``path``; never raises (see the module doc)."""
        self.path = path
        self._db = _open(path)

    @property
    def usable(self) -> bool:
        """Return whether vectors are read and stored (False: the cache could not be opened)."""
        return self._db is not None

    def get_many(self, model: str, keys: Sequence[str], dim: int) -> dict[str, np.ndarray]:
        """Return the cached vectors among ``keys`` (missing keys are absent)."""
        try:
            return self._get_many(model, keys, dim)
        except sqlite3.Error as exc:
            logger.warning("embedding cache %s unreadable (%s); embedding anew", self.path, exc)
            return {}

    def _get_many(self, model: str, keys: Sequence[str], dim: int) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        if self._db is None:
            return found
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
        """Store vectors (float32) under their keys; a failed write only logs a warning."""
        if self._db is None:
            return
        rows = [
            (model, key, np.asarray(v, dtype=np.float32).tobytes()) for key, v in items.items()
        ]
        try:
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)", rows)
        except sqlite3.Error as exc:
            logger.warning("embedding cache %s not updated (%s)", self.path, exc)

    def close(self) -> None:
        """Close the database."""
        if self._db is not None:
            self._db.close()


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False)
    try:
        db.execute(
            "CREATE TABLE IF NOT EXISTS vectors (model TEXT, key TEXT, vector BLOB,"
            " PRIMARY KEY (model, key))"
        )
    except sqlite3.Error:
        db.close()
        raise
    return db


def _open(path: Path) -> sqlite3.Connection | None:
    """Connect; move a corrupt file aside and start afresh; None if the cache is unusable."""
    try:
        return _connect(path)
    except sqlite3.OperationalError as exc:  # read-only, no permission, disk full
        problem: Exception = exc
    except sqlite3.DatabaseError as exc:  # "file is not a database", "malformed"
        aside = path.with_name(path.name + CORRUPT_SUFFIX)
        logger.warning("embedding cache %s is corrupt (%s); moved to %s", path, exc, aside)
        try:
            path.replace(aside)
            return _connect(path)
        except (OSError, sqlite3.Error) as again:
            problem = again
    except OSError as exc:
        problem = exc
    logger.warning("embedding cache %s unusable (%s); continuing without it", path, problem)
    return None
