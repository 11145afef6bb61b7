"""Web text in article files: HTML entities, NBSP, and files saved as UTF-16 or with a BOM."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest

from index.ingest import load_articles

ARTICLE = "title: Giá vàng &amp; đô la&nbsp;Mỹ\nsource: Báo &quot;Tin nhanh&quot;\n\n{body}\n"


def write(data: Path, name: str, content: bytes) -> Path:
    data.mkdir(exist_ok=True)
    (data / name).write_bytes(content)
    return data


def test_named_and_numeric_entities_are_decoded_in_title_source_and_paragraphs(
    tmp_path: Path,
) -> None:
    body = "Giá vàng SJC tăng 1,2&#37; trong ngày, theo &#x201C;Tin nhanh&#x201D; &amp; VTV."
    data = write(tmp_path / "data", "vang.md", ARTICLE.format(body=body).encode())
    [article] = load_articles(data).articles
    assert article.title == "Giá vàng & đô la Mỹ"
    assert article.source == 'Báo "Tin nhanh"'
    assert article.paragraphs == ("Giá vàng SJC tăng 1,2% trong ngày, theo “Tin nhanh” & VTV.",)


def test_nbsp_reads_as_a_space_for_matching_and_quoting(tmp_path: Path) -> None:
    body = "Cầu dài 312&nbsp;m và rộng 21\u00a0m."
    data = write(tmp_path / "data", "cau.md", ARTICLE.format(body=body).encode())
    [article] = load_articles(data).articles
    assert article.paragraphs == ("Cầu dài 312 m và rộng 21 m.",)


def test_jsonl_rows_have_their_entities_decoded(tmp_path: Path) -> None:
    row = {"id": "t1", "title": "Mưa &amp; lũ", "text": "Nước sông dâng&nbsp;cao &gt; 3 m."}
    data = write(tmp_path / "data", "bulk.jsonl", json.dumps(row).encode())
    [article] = load_articles(data).articles
    assert (article.title, article.paragraphs) == ("Mưa & lũ", ("Nước sông dâng cao > 3 m.",))


@pytest.mark.parametrize(
    ("bom", "encoding"),
    [
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
        (codecs.BOM_UTF8, "utf-8"),
    ],
)
def test_notepad_unicode_and_bom_files_are_read(tmp_path: Path, bom: bytes, encoding: str) -> None:
    text = "title: Lũ ở Huế\r\n\r\nSông Hương dâng cao, nhiều tuyến phố ngập nước.\r\n"
    data = write(tmp_path / "data", "hue.txt", bom + text.encode(encoding))
    result = load_articles(data)
    assert result.problems == []
    [article] = result.articles
    assert (article.title, article.paragraphs) == (
        "Lũ ở Huế",
        ("Sông Hương dâng cao, nhiều tuyến phố ngập nước.",),
    )


def test_a_binary_file_without_bom_keeps_its_clear_message(tmp_path: Path) -> None:
    data = write(tmp_path / "data", "anh.txt", b"\x89PNG\r\n\x00\x00\x00")
    [problem] = load_articles(data).problems
    assert "binary file (NUL bytes); not an article." in str(problem)
