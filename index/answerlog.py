"""The answer log: every answer under a durable id, the votes on it, and chat migrations.

One SQLite file (``DEFAULT_ANSWER_LOG``). The schema is versioned: numbered migrations are
applied in order and recorded in ``_migrations``, so an old log file is upgraded in place
(the scheme of simonw/llm: llm/migrations.py). Privacy: chat and user ids are stored only
with ``log_user_ids``; a voter is otherwise a keyed hash (HMAC-SHA-256 with a random key kept
in the file), enough for "one vote per user per answer" without naming anyone; question texts
are stored unless ``log_questions`` is off. Thread-safe: searches run in worker threads.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from index.text import fold

DEFAULT_ANSWER_LOG = Path("var/answers.sqlite")
UP, DOWN = 1, -1

Migration = Callable[[sqlite3.Connection], None]


def _m001_answers(db: sqlite3.Connection) -> None:
    db.execute(
        "CREATE TABLE answers (id INTEGER PRIMARY KEY AUTOINCREMENT, asked_at TEXT NOT NULL,"
        " via TEXT NOT NULL, chat_type TEXT NOT NULL, chat_id INTEGER, user_id INTEGER,"
        " question TEXT, question_key TEXT, chunk_ids TEXT NOT NULL, found INTEGER NOT NULL,"
        " index_built_at TEXT NOT NULL)"
    )
    db.execute("CREATE INDEX answers_asked_at ON answers (asked_at)")


def _m002_votes(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("INSERT INTO meta VALUES ('voter_key', ?)", (secrets.token_hex(32),))
    db.execute(
        "CREATE TABLE votes (answer_id INTEGER NOT NULL REFERENCES answers(id), voter TEXT"
        " NOT NULL, value INTEGER NOT NULL, voted_at TEXT NOT NULL,"
        " PRIMARY KEY (answer_id, voter))"
    )


def _m003_chat_migrations(db: sqlite3.Connection) -> None:
    db.execute(
        "CREATE TABLE chat_migrations (old_id INTEGER NOT NULL, new_id INTEGER PRIMARY KEY,"
        " migrated_at TEXT NOT NULL)"
    )


MIGRATIONS: tuple[tuple[str, Migration], ...] = (
    ("m001_answers", _m001_answers),
    ("m002_votes", _m002_votes),
    ("m003_chat_migrations", _m003_chat_migrations),
)


@dataclass(frozen=True)
class LoggedAnswer:
    """One logged answer. ``question`` is None when LOG_QUESTIONS was off."""

    answer_id: int
    asked_at: datetime
    via: str
    chat_type: str
    question: str | None
    chunk_ids: tuple[str, ...]
    found: bool
    index_built_at: str


@dataclass(frozen=True)
class Vote:
    """The outcome of a vote: ``counted`` is False when it repeats the voter's last vote."""

    counted: bool
    up: int
    down: int


class AnswerLog:
    """The answer log in one SQLite file (created, or migrated, when opened)."""

    def __init__(
        self, path: Path, *, log_user_ids: bool = False, log_questions: bool = True
    ) -> None:
        """Open (or create) ``path`` and apply the migrations it lacks."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.log_user_ids, self.log_questions = log_user_ids, log_questions
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self.applied = migrate(self._db)
        self._voter_key = (
            self._db.execute("SELECT value FROM meta WHERE name = 'voter_key'")
            .fetchone()[0]
            .encode()
        )

    def record(
        self,
        *,
        via: str,
        chat_type: str,
        question: str,
        chunk_ids: Sequence[str],
        index_built_at: str,
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> int:
        """Log an answer (no chunk ids = "không tìm thấy"); return its id."""
        ids = (chat_id, user_id) if self.log_user_ids else (None, None)
        text = question if self.log_questions else None
        row = (now_iso(), via, chat_type, *ids, text, fold(text) if text else None)
        with self._lock, self._db:
            cursor = self._db.execute(
                "INSERT INTO answers (asked_at, via, chat_type, chat_id, user_id, question,"
                " question_key, chunk_ids, found, index_built_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*row, json.dumps(list(chunk_ids)), bool(chunk_ids), index_built_at),
            )
        return int(cursor.lastrowid or 0)

    def find(self, answer_id: int) -> LoggedAnswer | None:
        """Return the answer logged under ``answer_id``, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT id, asked_at, via, chat_type, question, chunk_ids, found, index_built_at"
                " FROM answers WHERE id = ?",
                (answer_id,),
            ).fetchone()
        if row is None:
            return None
        at = datetime.fromisoformat(row[1])
        return LoggedAnswer(
            row[0], at, row[2], row[3], row[4], tuple(json.loads(row[5])), bool(row[6]), row[7]
        )

    def vote(self, answer_id: int, user_id: int, value: int) -> Vote:
        """Record ``user_id``'s vote (UP or DOWN) on an answer, replacing an earlier one."""
        if value not in (UP, DOWN):
            raise ValueError(f"a vote is {UP} or {DOWN}, not {value!r}")
        voter = self._voter(user_id)
        with self._lock, self._db:
            before = self._db.execute(
                "SELECT value FROM votes WHERE answer_id = ? AND voter = ?", (answer_id, voter)
            ).fetchone()
            self._db.execute(
                "INSERT OR REPLACE INTO votes VALUES (?, ?, ?, ?)",
                (answer_id, voter, value, now_iso()),
            )
            up, down = self._db.execute(
                "SELECT COALESCE(SUM(value = 1), 0), COALESCE(SUM(value = -1), 0) FROM votes"
                " WHERE answer_id = ?",
                (answer_id,),
            ).fetchone()
        return Vote(counted=before is None or before[0] != value, up=up, down=down)

    def note_migration(self, old_id: int, new_id: int) -> None:
        """Remember that group ``old_id`` became supergroup ``new_id``."""
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO chat_migrations VALUES (?, ?, ?)",
                (old_id, new_id, now_iso()),
            )

    def migrated_chats(self) -> dict[int, int]:
        """Return {new chat id: old chat id} of every group upgraded to a supergroup."""
        with self._lock:
            rows = self._db.execute("SELECT new_id, old_id FROM chat_migrations").fetchall()
        return dict(rows)

    def query(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Run a read-only ``sql`` under the lock (for ``index.answerstats``)."""
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def _voter(self, user_id: int) -> str:
        if self.log_user_ids:
            return str(user_id)
        return hmac.new(self._voter_key, str(user_id).encode(), hashlib.sha256).hexdigest()[:32]


def migrate(db: sqlite3.Connection) -> list[str]:
    """Apply the MIGRATIONS ``db`` lacks, each in its own transaction; return their names."""
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
    done = {name for (name,) in db.execute("SELECT name FROM _migrations")}
    applied = []
    for name, step in MIGRATIONS:
        if name in done:
            continue
        with db:
            step(db)
            db.execute("INSERT INTO _migrations VALUES (?, ?)", (name, now_iso()))
        applied.append(name)
    return applied


def now_iso() -> str:
    """Return the current UTC time as ISO 8601 (the log's time format)."""
    return datetime.now(UTC).isoformat(timespec="seconds")
