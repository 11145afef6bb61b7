"""Settings of the bot, read only here: the environment plus an optional ``.env`` file."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from index import (
    DEFAULT_ANSWER_LOG,
    DEFAULT_CACHE_DIR,
    DEFAULT_CACHE_FILE,
    DEFAULT_DATA_DIR,
    DEFAULT_INDEX_DIR,
    DEFAULT_MIN_CONFIDENCE,
    DEFAULT_MODEL,
    DEFAULT_TOP_K,
    MAX_ARTICLE_BYTES,
    SettingsError,
    WebSettings,
)
from index import read_env_file as read_index_env_file

ENV_FILE = Path(".env")
MAX_TOP_K = 20
MAX_SYNC_EVERY_MINUTES = 7 * 24 * 60
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_TOKEN_RE = re.compile(r"\d+:[A-Za-z0-9_-]+")
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


class ConfigError(ValueError):
    """A missing or invalid setting; the message says which variable and how to fix it."""


@dataclass(frozen=True)
class Settings:
    """Validated settings; an empty token means the terminal chat instead of Telegram."""

    token: str = field(default="", repr=False)
    api_base_url: str = ""
    webhook_url: str = ""
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    webhook_secret: str = field(default="", repr=False)
    admin_ids: frozenset[int] = frozenset()
    allow_group_admins: bool = False
    allowed_chat_ids: frozenset[int] = frozenset()
    data_dir: Path = DEFAULT_DATA_DIR
    index_dir: Path = DEFAULT_INDEX_DIR
    embedding_model: str = DEFAULT_MODEL
    model_cache_dir: Path = DEFAULT_CACHE_DIR
    embedding_cache: Path = DEFAULT_CACHE_FILE
    top_k: int = DEFAULT_TOP_K
    min_confidence: float = DEFAULT_MIN_CONFIDENCE
    rate_limit_per_minute: int = 20
    max_question_chars: int = 500
    answer_log: Path = DEFAULT_ANSWER_LOG
    feedback_buttons: bool = True
    log_user_ids: bool = False
    log_questions: bool = True
    reindex_every_min: int = 0
    log_level: str = "INFO"
    web: WebSettings = field(default_factory=WebSettings)
    sync_every_minutes: int = 0
    # Telegram delivery (bot/transport.py): sends wait this long for Telegram's slow moments.
    read_timeout_s: float = 30.0
    write_timeout_s: float = 30.0
    connect_timeout_s: float = 10.0
    send_retries: int = 4
    retry_backoff_s: float = 0.5
    flood_wait_max_s: float = 120.0
    # Unanswered questions survive a crash in the answer log's file (bot/inbox.py).
    inbox_max_age_min: int = 10
    max_article_bytes: int = MAX_ARTICLE_BYTES

    @property
    def secrets(self) -> tuple[str, ...]:
        """Return the values that must never be printed (token, webhook secret)."""
        return tuple(secret for secret in (self.token, self.webhook_secret) if secret)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Read and validate settings from ``environ``; raise ConfigError listing every problem."""
        reader = _Reader(environ)
        settings = cls(
            token=reader.text("TELEGRAM_BOT_TOKEN", _check_token),
            api_base_url=reader.text("TELEGRAM_API_BASE_URL", _check_http_url).rstrip("/"),
            webhook_url=reader.text("WEBHOOK_URL", _check_webhook_url),
            webhook_listen=reader.text("WEBHOOK_LISTEN") or cls.webhook_listen,
            webhook_port=reader.integer("WEBHOOK_PORT", cls.webhook_port, 1, 65535),
            webhook_secret=reader.text("WEBHOOK_SECRET", _check_secret),
            admin_ids=reader.ids("ADMIN_IDS"),
            allow_group_admins=reader.boolean("ALLOW_GROUP_ADMINS"),
            allowed_chat_ids=reader.ids("ALLOWED_CHAT_IDS"),
            data_dir=Path(reader.text("DATA_DIR") or cls.data_dir),
            index_dir=Path(reader.text("INDEX_DIR") or cls.index_dir),
            embedding_model=reader.text("EMBEDDING_MODEL") or cls.embedding_model,
            model_cache_dir=Path(reader.text("MODEL_CACHE_DIR") or cls.model_cache_dir),
            embedding_cache=Path(reader.text("EMBEDDING_CACHE") or cls.embedding_cache),
            top_k=reader.integer("TOP_K", cls.top_k, 1, MAX_TOP_K),
            min_confidence=reader.share("MIN_CONFIDENCE", cls.min_confidence),
            rate_limit_per_minute=reader.integer(
                "RATE_LIMIT_PER_MINUTE", cls.rate_limit_per_minute, 0, 10_000
            ),
            max_question_chars=reader.integer("MAX_QUESTION_CHARS", cls.max_question_chars, 10),
            answer_log=Path(reader.text("ANSWER_LOG") or cls.answer_log),
            feedback_buttons=reader.boolean("FEEDBACK_BUTTONS", cls.feedback_buttons),
            log_user_ids=reader.boolean("LOG_USER_IDS"),
            log_questions=reader.boolean("LOG_QUESTIONS", cls.log_questions),
            reindex_every_min=reader.integer("REINDEX_EVERY", cls.reindex_every_min, 0),
            log_level=reader.text("LOG_LEVEL", _check_log_level).upper() or cls.log_level,
            web=_web_settings(environ, reader.problems),
            sync_every_minutes=reader.integer("SYNC_EVERY", 0, 0, MAX_SYNC_EVERY_MINUTES),
            read_timeout_s=reader.number("TELEGRAM_READ_TIMEOUT_S", cls.read_timeout_s, 0.1),
            write_timeout_s=reader.number("TELEGRAM_WRITE_TIMEOUT_S", cls.write_timeout_s, 0.1),
            connect_timeout_s=reader.number(
                "TELEGRAM_CONNECT_TIMEOUT_S", cls.connect_timeout_s, 0.1
            ),
            send_retries=reader.integer("TELEGRAM_RETRIES", cls.send_retries, 0, 20),
            retry_backoff_s=reader.number("TELEGRAM_RETRY_BACKOFF_S", cls.retry_backoff_s, 0.0),
            flood_wait_max_s=reader.number("FLOOD_WAIT_MAX_S", cls.flood_wait_max_s, 0.0),
            inbox_max_age_min=reader.integer("INBOX_MAX_AGE_MIN", cls.inbox_max_age_min, 0),
            max_article_bytes=reader.integer("MAX_ARTICLE_BYTES", cls.max_article_bytes, 1),
        )
        if settings.webhook_url and not settings.token:
            reader.problems.append("WEBHOOK_URL is set but TELEGRAM_BOT_TOKEN is not; set both.")
        if reader.problems:
            raise ConfigError("Invalid settings:\n- " + "\n- ".join(reader.problems))
        return settings


def read_env_file(path: Path) -> dict[str, str]:
    """Parse ``KEY=VALUE`` lines (``#`` comments, optional ``export`` and quotes) of ``path``."""
    try:
        return read_index_env_file(path)
    except SettingsError as exc:
        raise ConfigError(str(exc)) from None


def _web_settings(environ: Mapping[str, str], problems: list[str]) -> WebSettings:
    """FEEDS, SITEMAPS and ALLOW_PRIVATE_URLS, read as ``python -m index fetch`` reads them."""
    try:
        return WebSettings.from_env(environ)
    except SettingsError as exc:
        problems.extend(line.removeprefix("- ") for line in str(exc).splitlines()[1:])
        return WebSettings()


def settings_from_environment(env_file: Path = ENV_FILE) -> Settings:
    """Return settings from ``env_file`` overridden by the process environment."""
    return Settings.from_env({**read_env_file(env_file), **os.environ})


class _Reader:
    """Reads variables, collecting problems instead of stopping at the first."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.problems: list[str] = []

    def text(self, name: str, check: Callable[[str, str], str | None] | None = None) -> str:
        value = self.environ.get(name, "").strip()
        problem = check(name, value) if check and value else None
        if problem:
            self.problems.append(problem)
        return value

    def integer(self, name: str, default: int, low: int, high: int | None = None) -> int:
        value = self.text(name)
        if not value:
            return default
        number = int(value) if re.fullmatch(r"-?\d+", value) else None
        if number is None or number < low or (high is not None and number > high):
            bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
            self.problems.append(f"{name}={value!r} must be a whole number {bounds}.")
            return default
        return number

    def number(self, name: str, default: float, low: float) -> float:
        value = self.text(name)
        if not value:
            return default
        number = float(value) if re.fullmatch(r"-?\d+(\.\d+)?", value) else None
        if number is None or number < low:
            self.problems.append(f"{name}={value!r} must be a number of at least {low:g}.")
            return default
        return number

    def share(self, name: str, default: float) -> float:
        value = self.text(name)
        if not value:
            return default
        number = float(value) if re.fullmatch(r"\d+(\.\d+)?", value) else None
        if number is None or number > 1:
            self.problems.append(f"{name}={value!r} must be a number between 0 and 1.")
            return default
        return number

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self.text(name).lower()
        if not value:
            return default
        if value not in _TRUE + _FALSE:
            self.problems.append(f"{name}={value!r} must be true or false.")
        return value in _TRUE

    def ids(self, name: str) -> frozenset[int]:
        parts = [part.strip() for part in self.text(name).split(",") if part.strip()]
        bad = [part for part in parts if not part.lstrip("-").isdigit()]
        if bad:
            self.problems.append(
                f"{name} must be comma-separated numeric Telegram ids (e.g. 12345,-100678); "
                f"not ids: {', '.join(bad)}."
            )
        return frozenset(int(part) for part in parts if part not in bad)


def _check_token(name: str, value: str) -> str | None:
    if _TOKEN_RE.fullmatch(value):
        return None
    return f"{name} does not look like a bot token (digits:letters); copy it from @BotFather."


def _check_http_url(name: str, value: str) -> str | None:
    url = urlparse(value)
    if url.scheme in ("http", "https") and url.netloc:
        return None
    return f"{name}={value!r} must be an http(s) URL, e.g. http://127.0.0.1:8081/bot."


def _check_webhook_url(name: str, value: str) -> str | None:
    url = urlparse(value)
    if url.scheme == "https" and url.netloc:
        return None
    return f"{name}={value!r} must be a public https:// URL (Telegram requires HTTPS)."


def _check_secret(name: str, value: str) -> str | None:
    if _SECRET_RE.fullmatch(value):
        return None
    return f"{name} must be 1-256 characters of A-Z, a-z, 0-9, _ and -."


def _check_log_level(name: str, value: str) -> str | None:
    if value.upper() in LOG_LEVELS:
        return None
    return f"{name}={value!r} must be one of {', '.join(LOG_LEVELS)}."
