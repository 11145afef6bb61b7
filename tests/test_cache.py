from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from index import paragraphing
from index.cache import EmbeddingCache, text_key
from index.embedding import ProgressFn
from tests.conftest import FakeEmbedder


def test_vectors_round_trip_per_model(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    vector = np.arange(4, dtype=np.float32)
    cache.put_many("model-a", {text_key("xin chào"): vector})
    again = EmbeddingCache(tmp_path / "c.sqlite")
    found = again.get_many("model-a", [text_key("xin chào"), text_key("khác")], 4)
    assert list(found) == [text_key("xin chào")]
    assert np.array_equal(found[text_key("xin chào")], vector)
    assert again.get_many("model-b", [text_key("xin chào")], 4) == {}


def test_vectors_of_another_dimension_are_ignored(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    cache.put_many("m", {"k": np.ones(3, dtype=np.float32)})
    assert cache.get_many("m", ["k"], 4) == {}


class FailsAfterOneBlock(FakeEmbedder):
    """The same model, dying (out of memory, killed) while it embeds its second block."""

    def embed_chunks(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        if self.embedded:
            raise RuntimeError("the embedding process died")
        return super().embed_chunks(texts, progress)


def test_a_build_that_dies_while_embedding_keeps_the_blocks_already_embedded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(paragraphing, "CACHE_BLOCK", 3)
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    texts = [f"đoạn văn số {i}" for i in range(7)]
    with pytest.raises(RuntimeError):
        paragraphing.embed_with_cache(FailsAfterOneBlock(4), texts, cache)
    _, embedded = paragraphing.embed_with_cache(FakeEmbedder(4), texts, cache)
    assert embedded == 4  # the first block of 3 came from the cache
