"""Slow: passages embedded in a child process, as the bot does, with the real model."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index import (
    ChildProcessEmbedder,
    SentenceTransformerEmbedder,
    build_index,
    load_index,
    update_index,
)

REPO = Path(__file__).resolve().parent.parent
PASSAGES = ["Giá xăng dầu tăng mạnh trong tuần.", "Mưa lớn kéo dài ở Huế, sông Hương dâng cao."]
pytestmark = pytest.mark.slow


def test_a_child_process_embeds_passages_exactly_as_this_process_would() -> None:
    child = ChildProcessEmbedder(cache_dir=REPO / "var" / "models", engine_passages=0)
    local = SentenceTransformerEmbedder(cache_dir=REPO / "var" / "models", engine_queries=False)
    assert child.fingerprint == local.fingerprint
    assert np.allclose(child.embed_chunks(PASSAGES), local.embed_chunks(PASSAGES), atol=1e-5)
    assert child.child_peak_mb > 0


def test_serving_with_the_engine_does_not_import_pytorch() -> None:
    code = (
        "import sys; from pathlib import Path; "
        "from index import SentenceTransformerEmbedder as E; "
        "e = E(cache_dir=Path(sys.argv[1])); e.embed_query('giá xăng'); "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(REPO / "var" / "models")],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_a_small_update_is_embedded_by_the_engine_without_pytorch_or_a_child() -> None:
    code = (
        "import sys, json; from pathlib import Path; "
        "from index import ChildProcessEmbedder as C; "
        "c = C(cache_dir=Path(sys.argv[1])); v = c.embed_chunks(json.loads(sys.argv[2])); "
        "print(json.dumps([v.tolist(), 'torch' in sys.modules, c.child_peak_mb]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(REPO / "var" / "models"), json.dumps(PASSAGES)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    vectors, imported_torch, child_peak = json.loads(out.stdout.strip().splitlines()[-1])
    reference = SentenceTransformerEmbedder(cache_dir=REPO / "var" / "models")
    cosines = np.sum(np.array(vectors) * reference.embed_chunks(PASSAGES), axis=1)
    assert cosines.min() > 0.999
    assert not imported_torch and child_peak == 0


def test_the_update_childs_embedder_embeds_like_the_serving_model() -> None:
    serving = ChildProcessEmbedder(cache_dir=REPO / "var" / "models", engine_passages=0)
    passages = pickle.loads(pickle.dumps(serving.passage_embedder()))  # as sent to the child
    local = SentenceTransformerEmbedder(cache_dir=REPO / "var" / "models", engine_queries=False)
    assert (passages.name, passages.fingerprint, passages.dim) == (
        serving.name,
        serving.fingerprint,
        serving.dim,
    )
    assert np.allclose(passages.embed_chunks(PASSAGES), local.embed_chunks(PASSAGES), atol=1e-5)


def test_an_article_added_through_the_update_child_is_found(
    tiny_data: Path, tmp_path: Path
) -> None:
    serving = ChildProcessEmbedder(cache_dir=REPO / "var" / "models")
    build_index(tiny_data, tmp_path / "index", serving)
    (tiny_data / "cau-rong.md").write_text(
        "title: Cầu Rồng phun lửa\n\nCầu Rồng ở Đà Nẵng phun lửa vào tối thứ bảy hằng tuần.\n",
        encoding="utf-8",
    )
    report = update_index(tiny_data, tmp_path / "index", serving)
    assert (report.added, report.embedded) == (1, 1)
    searcher = load_index(tmp_path / "index", serving)
    [hit] = searcher.rank("Cầu Rồng phun lửa khi nào?", 1)
    assert hit.chunk.title == "Cầu Rồng phun lửa"
