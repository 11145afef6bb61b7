"""The terminal chat: questions from stdin, the bot's answers as plain text on stdout.

Used by ``python -m bot`` without a token; it answers exactly as the bot does (same search,
same passages and metadata, same "không tìm thấy"), and works with piped stdin.
"""

from __future__ import annotations

import logging
from typing import TextIO

from bot import messages
from bot.config import Settings
from bot.formatting import format_not_found, format_plain, truncation_note
from index import Asking, Origin, Searcher


def answer_text(searcher: Searcher, settings: Settings, text: str) -> str:
    """Return the plain-text answer the bot would give to ``text`` (not logged)."""
    # DEBUG: an INFO line per question would interleave with the chat on the same terminal.
    asking = Asking(None, settings.top_k, settings.max_question_chars, logging.DEBUG)
    answer = asking.ask(searcher, text, Origin("terminal", "terminal"))
    if not answer.question.text:
        return messages.EMPTY_QUERY.format(example=messages.EXAMPLE_QUESTIONS[0])
    note = truncation_note(answer.question.truncated, settings.max_question_chars)
    hits = answer.hits[: settings.top_k]
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
