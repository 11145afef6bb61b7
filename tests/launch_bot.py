"""Run the production ``run(settings, searcher)`` over a FakeEmbedder index, for test_process.

Settings come from the environment exactly as for ``python -m bot``; the index of DATA_DIR is
built into INDEX_DIR with FakeEmbedder (no model), so the process starts in about a second.
Usage: ``python -m tests.launch_bot`` from the repository root.
"""

from __future__ import annotations

import os

from bot.__main__ import configure_logging
from bot.app import run
from bot.config import Settings
from index import build_index, load_index
from tests.conftest import FakeEmbedder


def main() -> None:
    settings = Settings.from_env(os.environ)
    configure_logging(settings.log_level, settings.secrets)
    embedder = FakeEmbedder()
    build_index(settings.data_dir, settings.index_dir, embedder)
    run(settings, load_index(settings.index_dir, embedder))


if __name__ == "__main__":
    main()
