from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from index import IndexNotBuiltError, ModelMismatchError, build_index, load_index
from index.store import read_index
from index.stores.dense import APPROXIMATE_ABOVE, make_vector_index, stored_vectors
from tests.conftest import FakeEmbedder


def test_loading_with_another_model_is_refused_with_the_fix(built_index: Path) -> None:
    other = FakeEmbedder(dim=32)
    other.name = "another-model"
    with pytest.raises(ModelMismatchError) as excinfo:
        load_index(built_index, other)
    message = str(excinfo.value)
    assert "fake-embedder" in message and "another-model" in message
    assert "python -m index build" in message


def test_same_name_with_other_weights_is_refused(built_index: Path) -> None:
    retrained = FakeEmbedder()
    retrained.fingerprint = "fake-embedder-v2"
    with pytest.raises(ModelMismatchError):
        load_index(built_index, retrained)


def test_missing_index_says_how_to_build_it(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    with pytest.raises(IndexNotBuiltError, match="python -m index build"):
        load_index(tmp_path / "nowhere", fake_embedder)


@pytest.mark.parametrize("part", ["dense", "lexical", "sources"])
def test_truncated_file_is_detected_not_loaded(
    built_index: Path, fake_embedder: FakeEmbedder, part: str
) -> None:
    manifest = json.loads((built_index / "manifest.json").read_text(encoding="utf-8"))
    name = manifest["stores"][part][0]
    path = built_index / name
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(IndexNotBuiltError, match=f"{name}.*corrupt"):
        load_index(built_index, fake_embedder)


def test_garbled_manifest_is_refused(built_index: Path, fake_embedder: FakeEmbedder) -> None:
    (built_index / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexNotBuiltError, match="Rebuild"):
        load_index(built_index, fake_embedder)


def test_unknown_format_is_refused(built_index: Path, fake_embedder: FakeEmbedder) -> None:
    manifest = json.loads((built_index / "manifest.json").read_text(encoding="utf-8"))
    manifest["format"] = 99
    (built_index / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexNotBuiltError, match="format 99"):
        load_index(built_index, fake_embedder)


def test_manifest_describes_the_index(built_index: Path, fake_embedder: FakeEmbedder) -> None:
    manifest = json.loads((built_index / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["model"] == "fake-embedder"
    assert manifest["dim"] == 64
    assert manifest["count"] == 8
    assert manifest["articles"] == 5
    assert manifest["normalizer"] >= 1
    assert set(manifest["stores"]) == {"dense", "lexical", "sources"}
    assert set(manifest["files"]) == {n for names in manifest["stores"].values() for n in names}


def test_save_load_round_trip_keeps_chunks_and_vectors(built_index: Path) -> None:
    stored = read_index(built_index)
    assert stored.dense.count == stored.lexical.count == stored.manifest.count
    ids = np.arange(stored.manifest.count)
    vectors = stored.dense.vectors(ids)  # type: ignore[attr-defined]
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    chunks = stored.paragraphs.get(ids.tolist())
    assert chunks[0].title == "Thời tiết Huế"


def test_failed_build_leaves_the_old_index_serving(
    built_index: Path, tmp_path: Path, fake_embedder: FakeEmbedder
) -> None:
    before = (built_index / "manifest.json").read_text(encoding="utf-8")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(Exception, match="No readable articles"):
        build_index(empty, built_index, fake_embedder)
    assert (built_index / "manifest.json").read_text(encoding="utf-8") == before
    assert load_index(built_index, fake_embedder).search("Phổ Yên xuất khẩu")
    assert not [p for p in built_index.parent.iterdir() if p.name.startswith(".index.")]


def test_crash_while_embedding_leaves_the_old_index_and_no_debris(
    built_index: Path, tiny_data: Path, fake_embedder: FakeEmbedder
) -> None:
    class Exploding(FakeEmbedder):
        def embed_chunks(self, texts, progress=None):  # type: ignore[no-untyped-def]
            raise RuntimeError("out of memory")

    (tiny_data / "new.md").write_text("title: Mới\n\nBài mới về cầu Bến Thủy.\n", encoding="utf-8")
    with pytest.raises(RuntimeError):
        build_index(tiny_data, built_index, Exploding())
    searcher = load_index(built_index, fake_embedder)
    assert all("Bến Thủy" not in h.chunk.text for h in searcher.rank("cầu Bến Thủy", 20))
    assert searcher.manifest.count == 8


def test_large_collections_switch_to_an_approximate_index() -> None:
    small = make_vector_index(np.eye(4, dtype=np.float32))
    assert type(small).__name__ == "IndexFlatIP"
    assert make_vector_index(np.eye(4, dtype=np.float32), approximate=True).ntotal == 4
    assert APPROXIMATE_ABOVE >= 10_000


@pytest.mark.parametrize("approximate", [False, True])
def test_stored_vectors_are_the_indexed_unit_vectors(approximate: bool) -> None:
    vectors = np.random.default_rng(0).standard_normal((50, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = make_vector_index(vectors, approximate=approximate)
    assert np.allclose(stored_vectors(index), vectors)
