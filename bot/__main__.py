"""``python -m bot``: the Telegram bot with a token, else a terminal chat over the articles.

``python -m bot report --days 30 [--output FILE]`` writes the answer log's figures as CSV.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Iterable, Sequence
from contextlib import closing
from pathlib import Path

from bot.app import run
from bot.config import ConfigError, Settings, settings_from_environment
from bot.report import write_report
from bot.terminal import chat
from index import (
    AnswerLog,
    ChildProcessEmbedder,
    EmbeddingCache,
    ProgressBar,
    RetrievalError,
    Searcher,
    SearchSettings,
    load_or_build_index,
)

logger = logging.getLogger(__name__)

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "[REDACTED]"
# Loggers that print request URLs (which contain the bot token) below WARNING.
NOISY_LOGGERS = ("httpx", "httpcore")


class RedactingFormatter(logging.Formatter):
    """A formatter that replaces secrets (the bot token) wherever they would be printed."""

    def __init__(self, fmt: str, secrets: Iterable[str]) -> None:
        """Format with ``fmt`` and hide every non-empty string of ``secrets``."""
        super().__init__(fmt)
        self.secrets = [secret for secret in secrets if secret]

    def format(self, record: logging.LogRecord) -> str:
        """Format ``record``, then hide the secrets."""
        text = super().format(record)
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text


def quiet_libraries() -> None:
    """Set httpx and httpcore to WARNING: below it they log request URLs, token included."""
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def configure_logging(level: str, secrets: Iterable[str] = ()) -> None:
    """Log to stderr at ``level``, quiet httpx/httpcore, and never print ``secrets``."""
    logging.basicConfig(level=level, format=LOG_FORMAT, force=True)
    formatter = RedactingFormatter(LOG_FORMAT, secrets)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)
    quiet_libraries()


def load_searcher(settings: Settings) -> Searcher:
    """Load the embedding model and the index, building the index first if there is none."""
    logger.info("loading embedding model %s", settings.embedding_model)
    # Passages are embedded in a child process with one PyTorch thread: the bot's memory stays
    # flat and an update leaves a core to questions.
    embedder = ChildProcessEmbedder(settings.embedding_model, settings.model_cache_dir, threads=1)
    with closing(EmbeddingCache(settings.embedding_cache)) as cache:
        searcher = load_or_build_index(
            settings.data_dir,
            settings.index_dir,
            embedder,
            cache,
            ProgressBar(sys.stderr),
            max_article_bytes=settings.max_article_bytes,
        )
    searcher.settings = SearchSettings(min_confidence=settings.min_confidence)
    return searcher


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line: nothing (run the bot or the chat), or ``report``."""
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    report = commands.add_parser("report", help="answer log figures as CSV")
    report.add_argument("--days", type=int, default=30, help="days to cover (default 30)")
    report.add_argument("--output", type=Path, help="CSV file to write (default: stdout)")
    return parser.parse_args(argv)


def report(settings: Settings, days: int, output: Path | None) -> int:
    """Write the report CSV of the answer log at ANSWER_LOG; return the exit code."""
    if days < 1:
        logger.error("--days must be at least 1")
        return 1
    if not settings.answer_log.is_file():
        logger.error("No answer log at %s: the bot has not answered yet.", settings.answer_log)
        return 1
    with closing(AnswerLog(settings.answer_log)) as log:
        if output is None:
            write_report(log, days, sys.stdout)
        else:
            with output.open("w", encoding="utf-8", newline="") as out:
                write_report(log, days, out)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bot (or the terminal chat, or the report); return the process exit code."""
    arguments = parse_arguments(argv)
    configure_logging("INFO")
    try:
        settings = settings_from_environment()
    except ConfigError as exc:
        logger.error("%s", exc)
        return 1
    configure_logging(settings.log_level, settings.secrets)
    if arguments.command == "report":
        return report(settings, arguments.days, arguments.output)
    try:
        searcher = load_searcher(settings)
    except RetrievalError as exc:
        logger.error("%s", exc)
        return 1
    except OSError as exc:  # read-only var/, disk full: a sentence, not a traceback
        logger.error(
            "cannot write %s (%s); make it writable or set INDEX_DIR elsewhere",
            exc.filename or settings.index_dir,
            exc.strerror or exc,
        )
        return 1
    if settings.token:
        run(settings, searcher)
    else:
        chat(searcher, settings, sys.stdin, sys.stdout)
    return 0


def exit_now(code: int) -> None:
    """Flush the logs and output, then end the process without the interpreter's teardown.

    Everything is saved and closed when ``main`` returns; tearing down torch and
    sentence-transformers modules still takes ~3 s on a busy 2-core machine, which would
    break the promise of exiting within 5 s of SIGTERM.
    """
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    exit_now(main())
