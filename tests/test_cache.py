from __future__ import annotations

from pathlib import Path

import numpy as np

from index.cache import EmbeddingCache, text_key


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
