"""VECTOR_STORE=qdrant: the same answers as FAISS through Qdrant's local mode, updates, faults."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import pytest

from bot import messages
from index import SearchUnavailableError
from index.__main__ import main
from index.pipeline import build_index, load_index
from index.search import Searcher
from index.settings import SettingsError, StoreSettings
from index.store import read_index
from index.stores.qdrantsync import connect, mirror, open_stored
from tests.bot_fixtures import ask_privately, bot_running, sent_to
from tests.conftest import FakeEmbedder
from tests.fake_telegram import FakeTelegram

pytest.importorskip("qdrant_client")
pytest_plugins = ["tests.bot_fixtures"]

ROOT = Path(__file__).resolve().parent.parent
FAISS = StoreSettings()
QUESTIONS = [
    "Phổ Yên xuất khẩu bao nhiêu?",
    "gia tri xuat khau pho yen",  # no diacritics: restored through the stores' frequencies
    "phở bò Hà Nội thế nào?",
    "Thủ tướng nói gì về kinh tế?",
    "xyz qwe",
]


def qdrant(tmp_path: Path) -> StoreSettings:
    return StoreSettings(backend="qdrant", path=str(tmp_path / "qdrant"))


def same_answers(left: Searcher, right: Searcher, questions: list[str]) -> None:
    for question in questions:
        a, b = left.rank(question, 10), right.rank(question, 10)
        assert [h.chunk for h in a] == [h.chunk for h in b], question
        assert [h.score for h in a] == pytest.approx([h.score for h in b], abs=1e-4)
        assert [h.confidence for h in a] == pytest.approx([h.confidence for h in b], abs=1e-4)
        assert [h.highlights for h in a] == [h.highlights for h in b]


def test_the_shipped_articles_give_the_same_hits_through_qdrant_as_through_faiss(
    tmp_path: Path,
) -> None:
    embedder, store = FakeEmbedder(), qdrant(tmp_path)
    build_index(ROOT / "data", tmp_path / "index", embedder, store=store)
    through_faiss = load_index(tmp_path / "index", embedder, store=FAISS)
    through_qdrant = load_index(tmp_path / "index", embedder, store=store)
    assert through_qdrant.manifest.count == through_faiss.manifest.count > 0
    same_answers(through_faiss, through_qdrant, QUESTIONS)
    hit = through_qdrant.search(QUESTIONS[0], 1)[0]
    assert through_qdrant.neighbour(hit.chunk, 1) == through_faiss.neighbour(hit.chunk, 1)


def test_updates_write_only_the_difference_and_a_second_run_changes_nothing(
    tiny_data: Path, tmp_path: Path
) -> None:
    embedder, store = FakeEmbedder(), qdrant(tmp_path)
    build_index(tiny_data, tmp_path / "index", embedder, store=store)
    first = sorted(tiny_data.iterdir())[0]
    gone_title = first.read_text(encoding="utf-8").splitlines()[0]
    first.unlink()
    build_index(tiny_data, tmp_path / "index", embedder, store=store)
    through_qdrant = load_index(tmp_path / "index", embedder, store=store)
    through_faiss = load_index(tmp_path / "index", embedder, store=FAISS)
    assert through_qdrant.manifest.count == through_faiss.manifest.count
    same_answers(through_faiss, through_qdrant, [*QUESTIONS, gone_title])
    assert all(
        through_qdrant.stored.lexical.document_frequencies([t])[t]
        == through_faiss.stored.lexical.document_frequencies([t])[t]
        for t in ["pho", "=phở", "xuat_khau", "=xuất_khẩu", "ha_noi"]
    )
    rerun = main(["migrate", "--to", "qdrant", "--index-dir", str(tmp_path / "index")])
    assert rerun == 0


def test_migrate_copies_a_faiss_index_without_embedding_and_checks_the_counts(
    built_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("QDRANT_PATH", str(tmp_path / "qdrant"))
    assert main(["migrate", "--to", "qdrant", "--index-dir", str(built_index)]) == 0
    first = capsys.readouterr().out
    assert main(["migrate", "--to", "qdrant", "--index-dir", str(built_index)]) == 0
    again = capsys.readouterr().out
    embedder = FakeEmbedder()
    through_faiss = load_index(built_index, embedder, store=FAISS)
    count = through_faiss.manifest.count
    assert f"+{count} points, -0 points; {count} points" in first
    assert f"+0 points, -0 points; {count} points" in again
    monkeypatch.setenv("VECTOR_STORE", "qdrant")
    shutil.rmtree(built_index)  # a replica needs no local index
    through_qdrant = load_index(built_index, embedder)
    assert embedder.embedded == 0
    same_answers(through_faiss, through_qdrant, QUESTIONS)


class Flaky:
    """A Qdrant client whose calls raise while ``down`` is set (or only the ``failing`` ones)."""

    def __init__(self, client: Any) -> None:
        self.client, self.down, self.failing = client, False, set[str]()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.client, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            if self.down or name in self.failing:
                raise ConnectionError("connection refused")
            return method(*args, **kwargs)

        return call


@pytest.fixture
def flaky_searcher(tiny_data: Path, tmp_path: Path) -> tuple[Searcher, Flaky]:
    store, embedder = qdrant(tmp_path), FakeEmbedder()
    build_index(tiny_data, tmp_path / "index", embedder, store=store)
    flaky = Flaky(connect(store))
    return Searcher(open_stored(flaky, store.collection), embedder), flaky


def test_an_update_that_fails_half_way_keeps_serving_and_the_next_run_repairs_it(
    tiny_data: Path, tmp_path: Path
) -> None:
    embedder, store = FakeEmbedder(), qdrant(tmp_path)
    build_index(tiny_data, tmp_path / "index", embedder, store=store)
    before = load_index(tmp_path / "index", embedder, store=store)
    sorted(tiny_data.iterdir())[0].unlink()
    build_index(tiny_data, tmp_path / "index", embedder, store=FAISS)
    flaky = Flaky(connect(store))
    flaky.failing = {"delete"}  # the new points are written, the old ones cannot be deleted
    with pytest.raises(ConnectionError):
        mirror(read_index(tmp_path / "index"), flaky, store)
    during = Searcher(open_stored(connect(store), store.collection), embedder)
    assert during.manifest == before.manifest
    assert during.search("Phổ Yên xuất khẩu bao nhiêu?")
    mirror(read_index(tmp_path / "index"), connect(store), store)  # recounts df and N
    through_faiss = load_index(tmp_path / "index", embedder, store=FAISS)
    same_answers(through_faiss, load_index(tmp_path / "index", embedder, store=store), QUESTIONS)


def test_a_failing_qdrant_raises_one_clear_error_logs_once_and_recovers(
    flaky_searcher: tuple[Searcher, Flaky], caplog: pytest.LogCaptureFixture
) -> None:
    searcher, flaky = flaky_searcher
    flaky.down = True
    for question in ("Phổ Yên xuất khẩu?", "phở bò Hà Nội"):
        with pytest.raises(SearchUnavailableError):
            searcher.search(question)
    failures = [r for r in caplog.records if "failed" in r.getMessage()]
    assert len(failures) == 1 and failures[0].exc_info is None
    flaky.down = False
    assert searcher.search("Phổ Yên xuất khẩu bao nhiêu?")


async def test_the_user_is_told_to_retry_later_and_the_bot_keeps_answering(
    fake: FakeTelegram,
    settings: Any,
    flaky_searcher: tuple[Searcher, Flaky],
    caplog: pytest.LogCaptureFixture,
) -> None:
    searcher, flaky = flaky_searcher
    caplog.set_level(logging.INFO)
    async with bot_running(settings, searcher):
        flaky.down = True
        await ask_privately(fake, "Phổ Yên xuất khẩu bao nhiêu?")
        [sorry] = await fake.wait_for("sendMessage", sent_to(111))
        assert sorry.params["text"] == messages.SEARCH_UNAVAILABLE
        assert "tạm thời không tìm được, thử lại sau" in messages.SEARCH_UNAVAILABLE
        flaky.down = False
        await ask_privately(fake, "Phổ Yên xuất khẩu bao nhiêu?")
        [_, answer] = await fake.wait_for("sendMessage", sent_to(111), count=2)
        assert "Phổ Yên" in answer.params["text"]
    assert not [r for r in caplog.records if r.exc_info]


def test_an_unreachable_server_is_named_with_how_to_check_it() -> None:
    store = StoreSettings(backend="qdrant", url="http://127.0.0.1:9", timeout=2)
    with pytest.raises(SearchUnavailableError) as raised:
        connect(store)
    assert "QDRANT_URL=http://127.0.0.1:9" in str(raised.value)
    assert "curl http://127.0.0.1:9/readyz" in str(raised.value)


def test_store_settings_come_from_the_environment_and_refuse_nonsense() -> None:
    store = StoreSettings.from_env(
        {"VECTOR_STORE": "Qdrant", "QDRANT_URL": "http://q:6333", "QDRANT_API_KEY": "s3cret"}
    )
    assert (store.qdrant, store.url, store.collection) == (True, "http://q:6333", "paragraphs")
    assert "s3cret" not in repr(store) and "s3cret" not in store.where
    assert not StoreSettings.from_env({}).qdrant
    with pytest.raises(SettingsError, match="VECTOR_STORE"):
        StoreSettings.from_env({"VECTOR_STORE": "milvus"})
    with pytest.raises(SettingsError, match="QDRANT_SHARDS"):
        StoreSettings.from_env({"VECTOR_STORE": "qdrant", "QDRANT_SHARDS": "0"})


def test_a_replica_sees_the_builders_update_without_reloading(
    tiny_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    embedder, store = FakeEmbedder(), qdrant(tmp_path)
    build_index(tiny_data, tmp_path / "index", embedder, store=store)
    replica = load_index(tmp_path / "index", embedder, store=store)
    first = sorted(tiny_data.iterdir())[0]
    first.unlink()
    build_index(tiny_data, tmp_path / "index", embedder, store=store)
    monkeypatch.setattr("index.stores.qdrant.META_TTL_S", 0.0)
    through_faiss = load_index(tmp_path / "index", embedder, store=FAISS)
    assert replica.stored.lexical.count == through_faiss.stored.lexical.count
    same_answers(through_faiss, replica, QUESTIONS)
