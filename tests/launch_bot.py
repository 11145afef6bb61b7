"""Run the production ``run(settings, searcher)`` over a FakeEmbedder index, for test_process.

Settings come from the environment exactly as for ``python -m bot``; the index of DATA_DIR is
built into INDEX_DIR with FakeEmbedder (no model), so the process starts in about a second.
Two test-only knobs slow the serving embedder down, to have work in flight when the process
is killed or stopped: ``TEST_QUERY_DELAY_S`` (per question) and ``TEST_EMBED_DELAY_S`` (per
paragraph embedded by /reindex).
Usage: ``python -m tests.launch_bot`` from the repository root.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence

import numpy as np

from bot.__main__ import configure_logging
from bot.app import run
from bot.config import Settings
from index import build_index, load_index
from tests.conftest import FakeEmbedder


class DelayedEmbedder(FakeEmbedder):
    """FakeEmbedder that sleeps ``query_delay_s`` per query and ``embed_delay_s`` per text."""

    def __init__(self, query_delay_s: float, embed_delay_s: float) -> None:
        super().__init__()
        self.query_delay_s, self.embed_delay_s = query_delay_s, embed_delay_s

    def embed_query(self, text: str) -> np.ndarray:
        time.sleep(self.query_delay_s)
        return super().embed_query(text)

    def embed_chunks(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        vectors = []
        for text in texts:
            time.sleep(self.embed_delay_s)
            vectors.append(super().embed_chunks([text], progress))
        return np.concatenate(vectors) if vectors else super().embed_chunks([])


def main() -> None:
    settings = Settings.from_env(os.environ)
    configure_logging(settings.log_level, settings.secrets)
    build_index(settings.data_dir, settings.index_dir, FakeEmbedder())
    serving = DelayedEmbedder(
        float(os.environ.get("TEST_QUERY_DELAY_S", "0")),
        float(os.environ.get("TEST_EMBED_DELAY_S", "0")),
    )
    run(settings, load_index(settings.index_dir, serving))


if __name__ == "__main__":
    main()
