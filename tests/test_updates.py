"""Incremental updates: the same answers as a full rebuild, and crash safety."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from index import EmbeddingCache, Searcher, build_index, load_index
from index.stores import bm25, dense
from tests.conftest import REPO, FakeEmbedder

QUESTIONS = [
    "Phổ Yên xuất khẩu bao nhiêu?",
    "mưa lũ Thanh Hoá",
    "cầu Bến Thủy khởi công",
    "Huế ngập nước",
    "nông thôn mới Sông Công",
    "phở bò",
]
NEW_ARTICLE = "title: Cầu mới\n\nCầu Bến Thủy 3 được khởi công.\n\nCầu dài 1,2 km ở Huế.\n"


def answers(searcher: Searcher) -> list[list[tuple[float, str, str, float, float]]]:
    """Each question's ranking; paragraphs with exactly equal scores in id-independent order."""
    return [
        sorted(
            (
                -round(h.score, 4),
                h.chunk.chunk_id,
                h.chunk.text,
                round(h.dense_score, 4),
                round(h.lexical_score, 4),
            )
            for h in searcher.rank(q, 10)
        )
        for q in QUESTIONS
    ]


def edit_data(data: Path, step: int) -> None:
    """Add, change and remove articles, a different mix at each step."""
    if step == 0:
        (data / "moi.md").write_text(NEW_ARTICLE, encoding="utf-8")
    elif step == 1:
        text = (data / "thanh-hoa.md").read_text(encoding="utf-8")
        (data / "thanh-hoa.md").write_text(text.replace("ngập sâu", "ngập rất sâu"), "utf-8")
        (data / "pho-ha-noi.md").unlink()
    else:
        (data / "moi.md").write_text(NEW_ARTICLE + "\nCầu có 4 làn xe.\n", encoding="utf-8")
        (data / "bulk.jsonl").unlink()


@pytest.fixture(params=["segments", "folded", "hnsw"])
def store_shape(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run with deltas kept, or folded and compacted at every update, or with HNSW."""
    if request.param in ("folded", "hnsw"):
        for module in (dense, bm25):
            monkeypatch.setattr(module, "DELTA_MIN", 0)
            monkeypatch.setattr(module, "DELTA_SHARE", 0.0)
            monkeypatch.setattr(module, "COMPACT_SHARE", 0.0)
    if request.param == "hnsw":
        monkeypatch.setattr(dense, "APPROXIMATE_ABOVE", 0)
    return str(request.param)


def test_incremental_updates_answer_like_a_full_rebuild(
    tiny_data: Path, tmp_path: Path, store_shape: str
) -> None:
    embedder = FakeEmbedder()
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    build_index(tiny_data, tmp_path / "index", embedder, cache)
    for step in range(3):
        edit_data(tiny_data, step)
        report = build_index(tiny_data, tmp_path / "index", embedder, cache)
        full = build_index(tiny_data, tmp_path / f"full-{step}", embedder, cache, full=True)
        assert report.chunks == full.chunks and report.articles == full.articles
        updated = load_index(tmp_path / "index", embedder)
        rebuilt = load_index(tmp_path / f"full-{step}", embedder)
        assert answers(updated) == answers(rebuilt), store_shape


def test_update_embeds_only_new_paragraphs_and_a_deleted_file_removes_its_own(
    tiny_data: Path, tmp_path: Path
) -> None:
    embedder = FakeEmbedder()
    build_index(tiny_data, tmp_path / "index", embedder)
    edit_data(tiny_data, 0)
    added = build_index(tiny_data, tmp_path / "index", embedder)
    assert (added.added, added.changed, added.removed, added.embedded) == (2, 0, 0, 2)
    (tiny_data / "moi.md").unlink()
    removed = build_index(tiny_data, tmp_path / "index", embedder)
    assert (removed.added, removed.removed, removed.embedded) == (0, 2, 0)
    searcher = load_index(tmp_path / "index", embedder)
    assert all("Bến Thủy" not in h.chunk.text for h in searcher.rank("cầu Bến Thủy", 20))


def test_nothing_changed_writes_nothing(tiny_data: Path, tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    first = build_index(tiny_data, tmp_path / "index", embedder)
    manifest = (tmp_path / "index" / "manifest.json").read_text(encoding="utf-8")
    again = build_index(tiny_data, tmp_path / "index", embedder)
    assert (again.added, again.changed, again.removed, again.embedded) == (0, 0, 0, 0)
    assert again.chunks == first.chunks
    assert (tmp_path / "index" / "manifest.json").read_text(encoding="utf-8") == manifest


def test_neighbours_follow_the_updated_article(tiny_data: Path, tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    build_index(tiny_data, tmp_path / "index", embedder)
    edit_data(tiny_data, 0)
    build_index(tiny_data, tmp_path / "index", embedder)
    searcher = load_index(tmp_path / "index", embedder)
    [first] = [h.chunk for h in searcher.rank("Bến Thủy khởi công", 1)]
    following = searcher.neighbour(first, 1)
    assert following is not None and following.text == "Cầu dài 1,2 km ở Huế."
    assert searcher.neighbour(following, 1) is None


KILLED_UPDATE = """
import os, sys
from pathlib import Path
from index import build_index
from tests.conftest import FakeEmbedder

def die(stage, done, total):
    if stage == "write" and done == 1:
        os._exit(9)  # killed after writing the new files, before the manifest

build_index(Path(sys.argv[1]), Path(sys.argv[2]), FakeEmbedder(), progress=die)
"""


def test_killed_update_leaves_the_old_index_and_the_next_run_completes_it(
    tiny_data: Path, tmp_path: Path
) -> None:
    embedder = FakeEmbedder()
    index_dir = tmp_path / "index"
    build_index(tiny_data, index_dir, embedder)
    before = answers(load_index(index_dir, embedder))
    edit_data(tiny_data, 0)
    edit_data(tiny_data, 1)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_UPDATE, str(tiny_data), str(index_dir)],
        env=env,
        cwd=REPO,
        check=False,
    )
    assert killed.returncode == 9
    assert answers(load_index(index_dir, embedder)) == before
    report = build_index(tiny_data, index_dir, embedder)
    assert (report.added, report.changed, report.removed) == (2, 1, 1)
    build_index(tiny_data, tmp_path / "full", embedder, full=True)
    assert answers(load_index(index_dir, embedder)) == answers(
        load_index(tmp_path / "full", embedder)
    )
    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["generation"] == 2


def test_a_searcher_keeps_answering_after_a_full_rebuild_replaced_its_directory(
    tiny_data: Path, tmp_path: Path
) -> None:
    embedder = FakeEmbedder()
    build_index(tiny_data, tmp_path / "index", embedder)
    serving = load_index(tmp_path / "index", embedder)
    build_index(tiny_data, tmp_path / "index", embedder, full=True)
    [hit] = serving.search("Phổ Yên xuất khẩu", 1)
    assert "25,872 tỷ USD" in hit.chunk.text
    assert serving.neighbour(hit.chunk, 1) is not None
