"""Settings of the retrieval core's command line, shared with the bot: environment plus ``.env``.

Only this module (and ``bot/config.py``, which reuses it) reads the environment. The web
sources are ``FEEDS`` and ``SITEMAPS`` (comma- or whitespace-separated URLs) and
``ALLOW_PRIVATE_URLS``; where the index is served: ``VECTOR_STORE`` and the ``QDRANT_*`` settings.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from index.errors import RetrievalError

ENV_FILE = Path(".env")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class SettingsError(RetrievalError):
    """A missing or invalid setting; the message names the variable and the fix."""


@dataclass(frozen=True)
class WebSettings:
    """Where the archive comes from on the web, and whether private addresses may be fetched."""

    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    allow_private_urls: bool = False

    @property
    def sources(self) -> tuple[str, ...]:
        """Return every configured feed and sitemap URL, feeds first."""
        return self.feeds + self.sitemaps

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> WebSettings:
        """Read FEEDS, SITEMAPS and ALLOW_PRIVATE_URLS; raise SettingsError listing problems."""
        reader = EnvReader(environ)
        settings = cls(
            feeds=reader.urls("FEEDS"),
            sitemaps=reader.urls("SITEMAPS"),
            allow_private_urls=reader.boolean("ALLOW_PRIVATE_URLS"),
        )
        reader.raise_problems()
        return settings


@dataclass(frozen=True)
class StoreSettings:
    """Where the index is served from: embedded files (``faiss``) or a Qdrant collection.

    Attributes:
        backend: ``faiss`` (default) or ``qdrant``.
        url: a Qdrant server or cluster (``QDRANT_URL``); path: Qdrant's local mode on disk
            (``QDRANT_PATH``); neither: local mode in memory (tests).
        api_key: sent to the server only, never logged. collection: the collection name.
        shards, replicas: ``shard_number`` and ``replication_factor`` of a new collection.
        timeout: seconds per Qdrant request.
    """

    backend: str = "faiss"
    url: str = ""
    path: str = ""
    api_key: str = field(default="", repr=False)
    collection: str = "paragraphs"
    shards: int = 1
    replicas: int = 1
    timeout: float = 10.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> StoreSettings:
        """Read VECTOR_STORE and QDRANT_*; raise SettingsError listing problems."""
        reader = EnvReader(environ)
        backend = reader.text("VECTOR_STORE").lower() or "faiss"
        if backend not in ("faiss", "qdrant"):
            reader.problems.append(f"VECTOR_STORE={backend!r} must be faiss or qdrant.")
        url, path = reader.text("QDRANT_URL"), reader.text("QDRANT_PATH")
        if url and not _is_http_url(url):
            reader.problems.append(f"QDRANT_URL={url!r} must be an http(s) URL.")
        if url and path:
            reader.problems.append(
                "Set QDRANT_URL (a server) or QDRANT_PATH (local mode), not both."
            )
        settings = cls(
            backend=backend,
            url=url,
            path=path,
            api_key=reader.text("QDRANT_API_KEY"),
            collection=reader.text("QDRANT_COLLECTION") or "paragraphs",
            shards=reader.positive("QDRANT_SHARDS", 1),
            replicas=reader.positive("QDRANT_REPLICAS", 1),
            timeout=float(reader.positive("QDRANT_TIMEOUT", 10)),
        )
        reader.raise_problems()
        return settings

    @property
    def qdrant(self) -> bool:
        """Tell whether the index is served from Qdrant."""
        return self.backend == "qdrant"

    @property
    def where(self) -> str:
        """Return where the collection lives, for messages (never the API key)."""
        if self.url:
            return f"QDRANT_URL={self.url}"
        return f"QDRANT_PATH={self.path}" if self.path else "Qdrant in memory"


def store_settings() -> StoreSettings:
    """Return the store settings of the environment and ``.env``."""
    return StoreSettings.from_env(environment())


def read_env_file(path: Path) -> dict[str, str]:
    """Parse ``KEY=VALUE`` lines (``#`` comments, optional ``export`` and quotes) of ``path``.

    Raises:
        SettingsError: a line is not ``KEY=VALUE`` (the message names file and line).
    """
    if not path.is_file():
        return {}
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not _KEY.fullmatch(key):
            raise SettingsError(f"{path}:{number}: expected KEY=VALUE; fix or remove the line.")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key] = value
    return values


def environment(env_file: Path = ENV_FILE) -> dict[str, str]:
    """Return the variables of ``env_file`` overridden by the process environment."""
    return {**read_env_file(env_file), **os.environ}


class EnvReader:
    """Reads variables, collecting every problem instead of stopping at the first."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        """Read from ``environ``."""
        self.environ = environ
        self.problems: list[str] = []

    def text(self, name: str) -> str:
        """Return the stripped value of ``name`` ("" when unset)."""
        return self.environ.get(name, "").strip()

    def boolean(self, name: str) -> bool:
        """Return ``name`` as a boolean (true/false, 1/0, yes/no, on/off; unset is false)."""
        value = self.text(name).lower()
        if value not in _TRUE + _FALSE:
            self.problems.append(f"{name}={value!r} must be true or false.")
        return value in _TRUE

    def positive(self, name: str, default: int) -> int:
        """Return ``name`` as a positive integer (``default`` when unset)."""
        value = self.text(name)
        if not value:
            return default
        if not value.isdigit() or int(value) < 1:
            self.problems.append(f"{name}={value!r} must be a positive whole number.")
            return default
        return int(value)

    def urls(self, name: str) -> tuple[str, ...]:
        """Return the http(s) URLs listed in ``name``, separated by commas or whitespace."""
        parts = [part for part in re.split(r"[\s,]+", self.text(name)) if part]
        bad = [part for part in parts if not _is_http_url(part)]
        if bad:
            self.problems.append(
                f"{name} must list http(s) URLs separated by commas; not URLs: {', '.join(bad)}."
            )
        return tuple(part for part in parts if part not in bad)

    def raise_problems(self) -> None:
        """Raise SettingsError listing every problem met, if any."""
        if self.problems:
            raise SettingsError("Invalid settings:\n- " + "\n- ".join(self.problems))


def _is_http_url(value: str) -> bool:
    url = urlparse(value)
    return url.scheme in ("http", "https") and bool(url.netloc)
