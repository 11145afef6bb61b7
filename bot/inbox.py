"""The durable inbox: updates received but not yet handled, kept in SQLite across crashes.

It is one table in the answer log's file (``ANSWER_LOG``); an update's content is kept only
until it is handled, then only its id and state remain (a week), to refuse late duplicates.

An update is written when it arrives and marked done when its handling finished (answered,
or an apology sent). At start, unfinished updates younger than ``INBOX_MAX_AGE_MIN`` are
handled again; older ones are marked expired. An update id is handled at most once per run
and never again once done, so neither a replay nor Telegram resending a batch duplicates an
answer. A database that cannot be written (read-only, disk full) costs only the durability:
the bot keeps answering and logs one warning.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

logger = logging.getLogger(__name__)

PENDING, DONE, EXPIRED = "pending", "done", "expired"
KEEP_FINISHED_S = 7 * 24 * 3600.0  # finished rows are kept a week, to refuse late duplicates
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS inbox (update_id INTEGER PRIMARY KEY, received_at REAL NOT NULL,"
    " payload TEXT NOT NULL, state TEXT NOT NULL)"
)


class Inbox:
    """Updates in SQLite, keyed by update id (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        """Open (or create) the inbox at ``path``; on failure run without durability."""
        self.path = path
        self._claimed: set[int] = set()
        self._db = self._open(path)

    def claim(self, update_id: int, payload: str, now: float | None = None) -> bool:
        """Record an arriving update; return False if it is handled already or being handled.

        Args:
            update_id: Telegram's update id.
            payload: the update as JSON, to handle it again after a restart.
            now: the arrival time (Unix seconds); defaults to now.
        """
        if update_id in self._claimed:
            return False
        state = self._write(
            "INSERT OR IGNORE INTO inbox VALUES (?, ?, ?, ?)",
            (update_id, time.time() if now is None else now, payload, PENDING),
            fetch="SELECT state FROM inbox WHERE update_id = ?",
        )
        if state not in (None, PENDING):
            logger.info("update %s was handled already; skipped", update_id)
            return False
        self._claimed.add(update_id)
        return True

    def finish(self, update_id: int) -> None:
        """Mark ``update_id`` handled."""
        # The update (question text, user ids) is kept only while it may need an answer.
        self._write(
            "UPDATE inbox SET state = ?, payload = '' WHERE update_id = ?", (DONE, update_id)
        )
        self._claimed.discard(update_id)

    def release(self, update_id: int) -> None:
        """Leave ``update_id`` unfinished (its handling was cancelled by a shutdown)."""
        self._claimed.discard(update_id)

    def unfinished(self, max_age_s: float, now: float | None = None) -> list[str]:
        """Return the payloads of unfinished updates younger than ``max_age_s``, oldest first.

        Older unfinished updates are marked expired (and logged); long-finished rows pruned.
        """
        if self._db is None:
            return []
        now = time.time() if now is None else now
        try:
            with self._db:
                expired = self._db.execute(
                    "UPDATE inbox SET state = ?, payload = '' WHERE state = ? AND received_at < ?",
                    (EXPIRED, PENDING, now - max_age_s),
                ).rowcount
                self._db.execute(
                    "DELETE FROM inbox WHERE state != ? AND received_at < ?",
                    (PENDING, now - KEEP_FINISHED_S),
                )
            rows = self._db.execute(
                "SELECT payload FROM inbox WHERE state = ? ORDER BY update_id", (PENDING,)
            ).fetchall()
        except sqlite3.Error as exc:
            logger.warning("inbox %s unreadable (%s); nothing is answered again", self.path, exc)
            return []
        if expired:
            logger.warning("%d unanswered updates were older than the inbox limit", expired)
        return [payload for (payload,) in rows]

    def close(self) -> None:
        """Close the database."""
        if self._db is not None:
            self._db.close()
            self._db = None

    def _open(self, path: Path) -> sqlite3.Connection | None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Short busy timeout: the answer log writes to the same file, from worker threads.
            db = sqlite3.connect(path, timeout=1.0, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # survives a killed process, not power loss
            db.execute(_SCHEMA)
            return db
        except (OSError, sqlite3.Error) as exc:
            logger.warning(
                "inbox %s unusable (%s); questions in flight will not survive a restart",
                path,
                exc,
            )
            return None

    def _write(self, sql: str, args: tuple[object, ...], fetch: str = "") -> str | None:
        """Run ``sql``; then return the state read by ``fetch`` (None if no row or no db)."""
        if self._db is None:
            return None
        try:
            self._db.execute(sql, args)
            row = self._db.execute(fetch, args[:1]).fetchone() if fetch else None
        except sqlite3.Error as exc:
            logger.warning("inbox %s not updated (%s)", self.path, exc)
            return None
        return str(row[0]) if row else None
