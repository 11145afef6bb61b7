"""Updates in a child process: same index as in a thread, progress, errors, a killed child."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from index import DataFormatError, RetrievalError, build_index, load_index, update_index
from index.updateworker import UpdateJob, run_update_child
from tests.conftest import FakeEmbedder, IsolatedFakeEmbedder

NEW_ARTICLE = "title: Cầu mới\n\nCầu Bến Thủy 3 được khởi công.\n\nCầu dài 1,2 km ở Huế.\n"


class DyingEmbedder(FakeEmbedder):
    """Kills its process while embedding, as the out-of-memory killer would."""

    def embed_chunks(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        os._exit(7)


class BadRowEmbedder(FakeEmbedder):
    """Raises an error whose class does not survive pickling as it is."""

    def embed_chunks(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        raise DataFormatError("bulk.jsonl", 3, "a row the embedder rejects")


def texts(index_dir: Path, question: str) -> list[str]:
    return [h.chunk.text for h in load_index(index_dir, FakeEmbedder()).rank(question, 5)]


def test_an_update_in_a_child_gives_the_index_a_thread_gives(
    tiny_data: Path, tmp_path: Path
) -> None:
    serving = IsolatedFakeEmbedder()
    build_index(tiny_data, tmp_path / "child", serving)
    build_index(tiny_data, tmp_path / "thread", FakeEmbedder())
    (tiny_data / "moi.md").write_text(NEW_ARTICLE, encoding="utf-8")
    embedded_here = serving.embedded
    stages: list[str] = []
    report = update_index(
        tiny_data,
        tmp_path / "child",
        serving,
        tmp_path / "cache.sqlite",
        lambda stage, done, total: stages.append(stage),
    )
    build_index(tiny_data, tmp_path / "thread", FakeEmbedder())
    assert (report.added, report.embedded) == (2, 2)
    assert serving.embedded == embedded_here  # the child embedded them, not the serving process
    assert {"read", "embed", "write"} <= set(stages)
    for question in ("cầu Bến Thủy khởi công", "phở bò Hà Nội"):
        assert texts(tmp_path / "child", question) == texts(tmp_path / "thread", question)
    assert (
        texts(tmp_path / "child", "cầu Bến Thủy khởi công")[0] == "Cầu Bến Thủy 3 được khởi công."
    )


def test_the_childs_error_reaches_the_caller_with_its_message(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(RetrievalError, match="No readable articles"):
        update_index(tmp_path / "empty", tmp_path / "index", IsolatedFakeEmbedder())


def test_an_error_that_cannot_be_pickled_arrives_as_its_base_type(
    tiny_data: Path, tmp_path: Path
) -> None:
    job = UpdateJob(tiny_data, tmp_path / "index", BadRowEmbedder(), None, 10**6, None)
    with pytest.raises(RetrievalError, match="a row the embedder rejects"):
        run_update_child(job)


def test_a_killed_child_leaves_the_previous_index_serving(tiny_data: Path, tmp_path: Path) -> None:
    build_index(tiny_data, tmp_path / "index", FakeEmbedder())
    before = texts(tmp_path / "index", "phở bò Hà Nội")
    (tiny_data / "moi.md").write_text(NEW_ARTICLE, encoding="utf-8")
    job = UpdateJob(tiny_data, tmp_path / "index", DyingEmbedder(), None, 10**6, None)
    with pytest.raises(RuntimeError, match="exit code 7"):
        run_update_child(job)
    assert texts(tmp_path / "index", "phở bò Hà Nội") == before
    update_index(tiny_data, tmp_path / "index", IsolatedFakeEmbedder())
    assert texts(tmp_path / "index", "cầu Bến Thủy")[0] == "Cầu Bến Thủy 3 được khởi công."


def test_progress_that_raises_stops_the_child_and_keeps_the_old_index(
    tiny_data: Path, tmp_path: Path
) -> None:
    build_index(tiny_data, tmp_path / "index", FakeEmbedder())
    manifest = (tmp_path / "index" / "manifest.json").read_text(encoding="utf-8")
    (tiny_data / "moi.md").write_text(NEW_ARTICLE, encoding="utf-8")

    def stop(stage: str, done: int, total: int) -> None:
        raise KeyboardInterrupt  # the bot stopping

    with pytest.raises(KeyboardInterrupt):
        update_index(tiny_data, tmp_path / "index", IsolatedFakeEmbedder(), progress=stop)
    assert (tmp_path / "index" / "manifest.json").read_text(encoding="utf-8") == manifest
