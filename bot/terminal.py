"""The terminal chat: questions from stdin, the bot's answers as plain text on stdout.

Used by ``python -m bot`` without a token; it answers exactly as the bot does (same search,
same passages and metadata, same "không tìm thấy"), and works with piped stdin.
"""

from __future__ import annotations

import logging
import time
from typing import TextIO

from bot import messages
from bot.addressing import clean_question
from bot.config import Settings
from bot.formatting import format_not_found, format_plain, truncation_note
from index import Searcher

logger = logging.getLogger(__name__)


def answer_text(searcher: Searcher, settings: Settings, text: str) -> str:
    """Return the plain-text answer the bot would give to ``text``."""
    question = clean_question(text, settings.max_question_chars)
    if not question.text:
        return messages.EMPTY_QUERY.format(example=messages.EXAMPLE_QUESTIONS[0])
    started = time.perf_counter()
    hits = searcher.search(question.text, settings.top_k)
    logger.debug(  # INFO would interleave with the chat on the same terminal
        "question in terminal: %d chars, %d hits, best score %.3f, %.0f ms",
        len(question.text),
        len(hits),
        hits[0].score if hits else 0.0,
        (time.perf_counter() - started) * 1000,
    )
    note = truncation_note(question.truncated, settings.max_question_chars)
    return format_plain(hits, 1, note) if hits else format_not_found(note)


def chat(searcher: Searcher, settings: Settings, stdin: TextIO, stdout: TextIO) -> None:
    """Answer questions read line by line from ``stdin`` until EOF or "exit"."""
    interactive = stdin.isatty()
    print(messages.TERMINAL_GREETING, file=stdout, flush=True)
    while True:
        if interactive:
            print(messages.TERMINAL_PROMPT, end="", file=stdout, flush=True)
        line = stdin.readline()
        if not line or line.strip().lower() in messages.TERMINAL_EXIT_WORDS:
            return
        if line.strip():
            print(answer_text(searcher, settings, line) + "\n", file=stdout, flush=True)
