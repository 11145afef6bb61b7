from __future__ import annotations

from pathlib import Path

from index.ingest import load_articles


def write(path: Path, data: str | bytes) -> Path:
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path


def test_article_file_header_gives_title_date_source_url(tmp_path: Path) -> None:
    write(
        tmp_path / "a.md",
        "title: Tin Phổ Yên\ndate: 2023-12-13\nsource: VTC News\n"
        "url: https://vtc.vn/x\n\nĐoạn một.\n\nĐoạn hai.\n",
    )
    [article] = load_articles(tmp_path).articles
    assert (article.title, article.date, article.source, article.url) == (
        "Tin Phổ Yên",
        "2023-12-13",
        "VTC News",
        "https://vtc.vn/x",
    )
    assert article.paragraphs == ("Đoạn một.", "Đoạn hai.")
    assert article.article_id == "a"


def test_shipped_articles_load_verbatim_with_metadata() -> None:
    data = Path(__file__).resolve().parent.parent / "data"
    result = load_articles(data)
    assert not result.problems
    titles = {a.title for a in result.articles}
    assert any("Phổ Yên" in t for t in titles) and any("Sông Công" in t for t in titles)
    pho_yen = next(a for a in result.articles if "Phổ Yên" in a.title)
    assert pho_yen.source == "VTC News"
    original = data.parent.parent / "shared" / "articles" / "000_2b3cd43ae6fd9ddb.txt"
    if original.exists():
        assert all(p in original.read_text(encoding="utf-8") for p in pho_yen.paragraphs)


def test_nfd_text_is_stored_as_nfc(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "title: Tha\u0301i Nguye\u0302n\n\nTha\u0301i Nguye\u0302n mưa.\n")
    [article] = load_articles(tmp_path).articles
    assert article.title == "Thái Nguyên"
    assert article.paragraphs == ("Thái Nguyên mưa.",)


def test_bulk_jsonl_imports_passage_records_and_full_articles(tmp_path: Path) -> None:
    write(
        tmp_path / "bulk.jsonl",
        '{"id": "vq-1", "title": "Uganda", "text": "Uganda là một quốc gia."}\n'
        '{"id": "n-2", "title": "Tin", "date": "2024-01-02", "source": "VnExpress", '
        '"url": "https://e.vn", "text": "Đoạn một.\\n\\nĐoạn hai."}\n',
    )
    articles = load_articles(tmp_path).articles
    assert [a.article_id for a in articles] == ["vq-1", "n-2"]
    assert articles[1].paragraphs == ("Đoạn một.", "Đoạn hai.")
    assert articles[1].source == "VnExpress"


def test_broken_json_line_is_skipped_with_file_and_line_and_the_rest_is_kept(
    tmp_path: Path,
) -> None:
    write(
        tmp_path / "bulk.jsonl",
        '{"id": "1", "title": "A", "text": "Một."}\n{"id": "2", "title": \n'
        '{"id": "3", "title": "C"}\n{"id": "4", "title": "D", "text": "Bốn."}\n',
    )
    result = load_articles(tmp_path)
    assert [a.article_id for a in result.articles] == ["1", "4"]
    messages = [str(p) for p in result.problems]
    assert any("bulk.jsonl:2" in m and "JSON" in m for m in messages)
    assert any("bulk.jsonl:3" in m and '"text"' in m for m in messages)


def test_bad_encoding_empty_and_binary_files_are_skipped_by_name(tmp_path: Path) -> None:
    write(tmp_path / "good.md", "title: Tốt\n\nNội dung tốt.\n")
    write(tmp_path / "latin1.txt", "title: x\n\nCaf\xe9".encode("latin-1"))
    write(tmp_path / "empty.md", "  \n\n")
    write(tmp_path / "binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    result = load_articles(tmp_path)
    assert [a.article_id for a in result.articles] == ["good"]
    messages = " ".join(str(p) for p in result.problems)
    for name in ("latin1.txt", "empty.md", "binary.txt"):
        assert name in messages
    assert "UTF-8" in messages


def test_duplicate_article_ids_keep_the_first(tmp_path: Path) -> None:
    write(
        tmp_path / "a.jsonl",
        '{"id": "x", "title": "A", "text": "Một."}\n{"id": "x", "title": "B", "text": "Hai."}\n',
    )
    result = load_articles(tmp_path)
    assert [a.title for a in result.articles] == ["A"]
    assert "duplicate" in str(result.problems[0])


def test_readme_and_other_files_are_not_articles(tmp_path: Path) -> None:
    write(tmp_path / "README.md", "# Hướng dẫn\n\nKhông phải bài báo.\n")
    write(tmp_path / "notes.csv", "a,b\n")
    write(tmp_path / "a.md", "title: A\n\nNội dung.\n")
    assert [a.article_id for a in load_articles(tmp_path).articles] == ["a"]


def test_file_without_header_uses_the_file_name_as_title(tmp_path: Path) -> None:
    write(tmp_path / "tin-nhanh.txt", "Đoạn duy nhất của bài.\n")
    [article] = load_articles(tmp_path).articles
    assert article.title == "tin-nhanh"
    assert article.paragraphs == ("Đoạn duy nhất của bài.",)
