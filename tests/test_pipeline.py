from __future__ import annotations

from pathlib import Path

from index import EmbeddingCache, build_index, load_index
from tests.conftest import FakeEmbedder


def test_rebuild_after_adding_an_article_embeds_only_its_paragraphs(
    tiny_data: Path, tmp_path: Path
) -> None:
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    embedder = FakeEmbedder()
    first = build_index(tiny_data, tmp_path / "index", embedder, cache)
    assert first.embedded == first.chunks and first.added == first.chunks
    (tiny_data / "moi.md").write_text(
        "title: Cầu mới\n\nCầu Bến Thủy 3 được khởi công.\n\nCầu dài 1,2 km.\n", encoding="utf-8"
    )
    second = build_index(tiny_data, tmp_path / "index", embedder, cache)
    assert second.embedded == 2
    assert (second.added, second.changed, second.removed) == (2, 0, 0)
    assert second.chunks == first.chunks + 2


def test_rebuild_reports_changed_and_removed_paragraphs(tiny_data: Path, tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    build_index(tiny_data, tmp_path / "index", FakeEmbedder(), cache)
    (tiny_data / "pho-ha-noi.md").unlink()
    text = (tiny_data / "thanh-hoa.md").read_text(encoding="utf-8")
    (tiny_data / "thanh-hoa.md").write_text(text.replace("ngập sâu", "ngập rất sâu"), "utf-8")
    report = build_index(tiny_data, tmp_path / "index", FakeEmbedder(), cache)
    assert (report.added, report.changed, report.removed) == (0, 1, 1)
    assert report.embedded == 1


def test_a_bad_file_is_reported_and_everything_else_is_indexed(
    tiny_data: Path, tmp_path: Path, fake_embedder: FakeEmbedder
) -> None:
    (tiny_data / "broken.jsonl").write_text('{"id": "x", "text": \n', encoding="utf-8")
    report = build_index(tiny_data, tmp_path / "index", fake_embedder)
    assert report.articles == 5
    assert any("broken.jsonl:1" in p for p in report.problems)
    searcher = load_index(tmp_path / "index", fake_embedder)
    assert searcher.search("Phổ Yên xuất khẩu")


def test_progress_reports_every_embedded_chunk(tiny_data: Path, tmp_path: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    report = build_index(
        tiny_data,
        tmp_path / "index",
        FakeEmbedder(),
        progress=lambda stage, done, total: seen.append((stage, done, total)),
    )
    embed = [s for s in seen if s[0] == "embed"]
    assert embed[-1] == ("embed", report.chunks, report.chunks)
    assert seen[-1][0] == "write"
