"""The use case "ask a question": clean it, search, decide, log it; every front end renders it.

The Telegram handlers, inline and guest mode and the terminal chat call :meth:`Asking.ask`
and only turn the returned :class:`Answer` into their own text. Buttons under an answer carry
its log id; :meth:`Asking.recall` re-runs a logged question after a restart or a reindex.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from index.answerlog import AnswerLog
from index.models import Hit
from index.search import Searcher
from index.text import normalize_text

logger = logging.getLogger(__name__)

MAX_PAGES = 5  # "Xem thêm" can show up to MAX_PAGES * top_k hits


@dataclass(frozen=True)
class Question:
    """A cleaned question, and whether it was cut to the maximum length."""

    text: str
    truncated: bool = False


@dataclass(frozen=True)
class Origin:
    """Where a question came from: ``via`` (chat, guest, terminal) and the chat's type.

    The ids are logged only when the answer log is opened with ``log_user_ids``.
    """

    via: str = "chat"
    chat_type: str = "private"
    chat_id: int | None = None
    user_id: int | None = None


@dataclass(frozen=True)
class Answer:
    """The hits that answer a question, best first (none: "không tìm thấy").

    ``answer_id`` is the answer log's id; None for an empty question or without a log.
    """

    question: Question
    hits: tuple[Hit, ...]
    answer_id: int | None = None

    @property
    def found(self) -> bool:
        """Return True when at least one paragraph answers the question."""
        return bool(self.hits)


def clean_question(text: str, max_chars: int) -> Question:
    """Normalise whitespace and Unicode (NFC); cut to ``max_chars`` on whitespace if longer."""
    question = normalize_text(text)
    if len(question) <= max_chars:
        return Question(question)
    cut = question[: max_chars + 1].rsplit(" ", 1)[0] if " " in question[:max_chars] else ""
    return Question((cut or question[:max_chars]).strip(), truncated=True)


class Asking:
    """Answers questions with a Searcher and logs each answer (blocking: call from a thread)."""

    def __init__(
        self,
        log: AnswerLog | None,
        top_k: int,
        max_question_chars: int,
        log_level: int = logging.INFO,
    ) -> None:
        """Log to ``log`` (None: no log); keep ``top_k * MAX_PAGES`` hits per answer.

        ``log_level`` is the level of the per-question log line (the terminal chat uses
        DEBUG, as INFO lines would interleave with the chat).
        """
        self.log = log
        self.log_level = log_level
        self.top_k = top_k
        self.limit = top_k * MAX_PAGES
        self.max_question_chars = max_question_chars

    def find(self, searcher: Searcher, text: str, origin: Origin | None = None) -> Answer:
        """Clean and search ``text`` without logging it (inline mode: one query per keystroke)."""
        question = clean_question(text, self.max_question_chars)
        if not question.text:
            return Answer(question, ())
        return Answer(question, tuple(self._search(searcher, question.text, origin or Origin())))

    def ask(self, searcher: Searcher, text: str, origin: Origin | None = None) -> Answer:
        """Clean ``text``, search it and log the answer; an empty question is neither."""
        origin = origin or Origin()
        found = self.find(searcher, text, origin)
        if self.log is None or not found.question.text:
            return found
        answer_id = self.log.record(
            via=origin.via,
            chat_type=origin.chat_type,
            question=found.question.text,
            chunk_ids=[hit.chunk.chunk_id for hit in found.hits],
            index_built_at=searcher.manifest.built_at,
            chat_id=origin.chat_id,
            user_id=origin.user_id,
        )
        return Answer(found.question, found.hits, answer_id)

    def recall(self, searcher: Searcher, answer_id: int) -> Answer | None:
        """Re-run logged answer ``answer_id`` on ``searcher``; None if unknown or textless."""
        logged = self.log.find(answer_id) if self.log else None
        if logged is None or logged.question is None:
            return None
        hits = searcher.search(logged.question, self.limit)
        return Answer(Question(logged.question), tuple(hits), answer_id)

    def _search(self, searcher: Searcher, question: str, origin: Origin) -> list[Hit]:
        started = time.perf_counter()
        hits = searcher.search(question, self.limit)
        logger.log(
            self.log_level,
            "question via %s in %s chat: %d chars, %d hits, best score %.3f, %.0f ms",
            origin.via,
            origin.chat_type,
            len(question),
            len(hits),
            hits[0].score if hits else 0.0,
            (time.perf_counter() - started) * 1000,
        )
        logger.debug("question text: %r", question)
        return hits
