"""Paragraph texts and metadata on disk (SQLite), read by id; versioned by index generation.

Every row records the generation that added it and the one that removed it, so a Searcher of
generation ``g`` keeps reading its paragraphs while an update writes generation ``g + 1``, and
an update killed before its manifest was written is undone by :meth:`ParagraphStore.rollback`.
Rows removed before the previous generation are purged when a new generation commits.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from index.models import Chunk

PARAGRAPHS_FILE = "paragraphs.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS paragraphs (
    id INTEGER PRIMARY KEY, article_id TEXT NOT NULL, position INTEGER NOT NULL,
    chunk TEXT NOT NULL, added INTEGER NOT NULL, removed INTEGER);
CREATE INDEX IF NOT EXISTS paragraphs_by_article ON paragraphs (article_id, position);
"""
_FIELDS = [f.name for f in dataclasses.fields(Chunk)]


class ParagraphStore:
    """Chunks by paragraph id, as seen by one index generation."""

    def __init__(self, path: Path, generation: int) -> None:
        """Open (or create) ``path``; reads see the paragraphs live at ``generation``."""
        self.path = path
        self.generation = generation
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def get(self, ids: Sequence[int]) -> list[Chunk]:
        """Return the chunks of ``ids`` in the same order.

        Raises:
            KeyError: an id is not a paragraph of this generation.
        """
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        with self._lock:
            rows = dict(
                self._db.execute(
                    f"SELECT id, chunk FROM paragraphs WHERE id IN ({marks})",
                    [int(i) for i in ids],
                ).fetchall()
            )
        missing = [i for i in ids if int(i) not in rows]
        if missing:
            raise KeyError(f"paragraphs {missing} are not in {self.path}")
        return [_chunk(rows[int(i)]) for i in ids]

    def at(self, article_id: str, position: int) -> Chunk | None:
        """Return the chunk at ``position`` of an article, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT chunk FROM paragraphs WHERE article_id = ? AND position = ?"
                " AND added <= ? AND (removed IS NULL OR removed > ?)",
                (article_id, position, self.generation, self.generation),
            ).fetchone()
        return _chunk(row[0]) if row else None

    def ids_of(self, article_ids: Sequence[str]) -> list[int]:
        """Return the live paragraph ids of ``article_ids`` (for an update)."""
        found: list[int] = []
        with self._lock:
            for start in range(0, len(article_ids), 500):
                part = list(article_ids[start : start + 500])
                found += [
                    row[0]
                    for row in self._db.execute(
                        f"SELECT id FROM paragraphs WHERE removed IS NULL AND article_id IN"
                        f" ({','.join('?' * len(part))})",
                        part,
                    )
                ]
        return sorted(found)

    def live_ids(self) -> list[int]:
        """Return the ids of every live paragraph, ascending (to mirror the index elsewhere)."""
        with self._lock:
            rows = self._db.execute("SELECT id FROM paragraphs WHERE removed IS NULL ORDER BY id")
            return [row[0] for row in rows]

    def live_texts(self) -> dict[str, str]:
        """Return chunk id -> text of every live paragraph (to count a rebuild's changes)."""
        with self._lock:
            rows = self._db.execute("SELECT chunk FROM paragraphs WHERE removed IS NULL")
            chunks = [_chunk(row[0]) for row in rows]
        return {c.chunk_id: c.text for c in chunks}

    def write(self, generation: int, added: dict[int, Chunk], removed: Sequence[int]) -> None:
        """Add chunks and mark ids removed as of ``generation``, in one transaction."""
        rows = [(i, c.article_id, c.position, _json(c), generation) for i, c in added.items()]
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT INTO paragraphs VALUES (?, ?, ?, ?, ?, NULL)", rows)
            self._db.executemany(
                "UPDATE paragraphs SET removed = ? WHERE id = ?",
                [(generation, int(i)) for i in removed],
            )
            self._db.execute("COMMIT")

    def rollback(self) -> None:
        """Undo the rows of generations after this one (an update killed before it committed)."""
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM paragraphs WHERE added > ?", (self.generation,))
            self._db.execute(
                "UPDATE paragraphs SET removed = NULL WHERE removed > ?", (self.generation,)
            )
            self._db.execute("COMMIT")

    def purge(self, before: int) -> None:
        """Delete the rows removed at or before generation ``before`` (no reader needs them)."""
        with self._lock:
            self._db.execute("DELETE FROM paragraphs WHERE removed <= ?", (before,))

    def close(self) -> None:
        """Close the database."""
        self._db.close()


def _json(chunk: Chunk) -> str:
    return json.dumps(dataclasses.astuple(chunk), ensure_ascii=False)


def _chunk(text: str) -> Chunk:
    values = json.loads(text)  # the fields in declaration order (see _json)
    if len(values) != len(_FIELDS):
        raise ValueError(f"a paragraph row has {len(values)} fields, not {len(_FIELDS)}")
    return Chunk(*values)
