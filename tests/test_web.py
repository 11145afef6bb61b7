"""Feeds, sitemaps and article pages from a local news site become articles in data/."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from index import Article, Fetcher, FetchError, FetchReport, fetch_urls, remove_article
from index.ingest import load_articles
from tests.news_site import BOAT_RACE, BRIDGE, BUCKWHEAT, SITE, STORIES, TEA, NewsSite, shown

BOILERPLATE = (
    "Quảng cáo",
    "Trang chủ",
    "Tin liên quan",
    "Đọc nhiều",
    "Chia sẻ",
    "Từ khóa",
    "Giấy phép",
    "Ảnh: Minh Anh",
    "Giá vàng",
    "nhìn từ trên cao",
)
SOURCES = ("/rss/tin-moi.rss", "/atom/du-lich.xml", "/sitemap.xml")


@pytest.fixture
def site() -> Iterator[NewsSite]:
    with NewsSite() as server:
        yield server


def fetch(site: NewsSite, data: Path, *paths: str, allow_private: bool = True) -> FetchReport:
    with Fetcher(allow_private, delay_s=0, timeout_s=1.0) as fetcher:
        return fetch_urls([site.url(p) for p in paths], data, fetcher)


def archive(data: Path) -> dict[str, Article]:
    """The articles the index would read, by title."""
    return {a.title: a for a in load_articles(data).articles}


def test_rss_atom_and_sitemap_index_bring_in_every_article_without_boilerplate(
    site: NewsSite, tmp_path: Path
) -> None:
    report = fetch(site, tmp_path, *SOURCES)
    assert (report.new, report.changed, report.unchanged, report.failures) == (4, 0, 0, [])
    articles = archive(tmp_path)
    assert sorted(articles) == sorted(s.title for s in STORIES)
    for story in STORIES:
        article = articles[story.title]
        assert article.paragraphs == tuple(shown(p) for p in story.paragraphs)
        assert (article.date, article.source, article.url) == (
            story.date,
            SITE,
            site.url(story.path),
        )
        text = " ".join(article.paragraphs)
        assert not [words for words in BOILERPLATE if words in text], story.title
    assert (tmp_path / "web" / f"127.0.0.1-{site.base_url.rsplit(':', 1)[1]}").is_dir()


def test_entities_are_shown_as_the_reader_sees_them(site: NewsSite, tmp_path: Path) -> None:
    fetch(site, tmp_path, BRIDGE.path)
    text = "\n".join(archive(tmp_path)[BRIDGE.title].paragraphs)
    assert "312 m" in text
    assert "tiết kiệm điện & đổi màu" in text
    assert '"Trước đây muốn sang chợ Thái' in text
    assert "&nbsp;" not in text
    assert "&quot;" not in text


def test_a_second_fetch_changes_nothing_and_downloads_no_unchanged_page(
    site: NewsSite, tmp_path: Path
) -> None:
    fetch(site, tmp_path, *SOURCES)
    files = {p: p.read_bytes() for p in tmp_path.rglob("*.md")}
    again = fetch(site, tmp_path, *SOURCES)
    assert (again.new, again.changed, again.unchanged, again.failed) == (0, 0, 4, 0)
    assert {p: p.read_bytes() for p in tmp_path.rglob("*.md")} == files
    assert site.hits[BOAT_RACE.path] == 1  # its sitemap lastmod is unchanged: not downloaded


def test_an_edited_page_replaces_its_old_version(site: NewsSite, tmp_path: Path) -> None:
    fetch(site, tmp_path, "/rss/tin-moi.rss")
    corrected = "Giá bán mỗi kilôgam chè xuất khẩu đạt khoảng 1,5 triệu đồng theo hợp đồng mới."
    site.publish(replace(TEA, paragraphs=(*TEA.paragraphs[:2], corrected)))
    report = fetch(site, tmp_path, "/rss/tin-moi.rss")
    assert (report.new, report.changed, report.unchanged) == (0, 1, 1)
    [changed] = report.articles
    assert changed.changed and changed.title == TEA.title
    paragraphs = archive(tmp_path)[TEA.title].paragraphs
    assert paragraphs[-1] == corrected
    assert not any("1,2 triệu" in p for p in paragraphs)
    assert len(list(tmp_path.rglob("*.md"))) == 2


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/khong-co.html", "HTTP 404 Not Found"),
        ("/cham.html", "timed out after 1 s"),
        ("/vong-lap.html", "too many redirects (more than 5)"),
        ("/qua-lon.html", "larger than 5 MB"),
        ("/bao-cao.pdf", "not an HTML page, feed or sitemap (application/pdf)"),
        ("/hong-ma.html", "bad charset: the page is not valid utf-8"),
        ("/trang-trong.html", "no article text found on the page"),
        ("/rieng-tu/bai-noi-bo.html", "disallowed by the site's robots.txt"),
    ],
)
def test_a_failing_page_is_reported_with_its_reason_and_the_others_still_come_in(
    site: NewsSite, tmp_path: Path, path: str, reason: str
) -> None:
    report = fetch(site, tmp_path, path, BUCKWHEAT.path)
    assert [(f.url, f.reason) for f in report.failures] == [(site.url(path), reason)]
    assert list(archive(tmp_path)) == [BUCKWHEAT.title]


def test_a_windows_1258_page_is_decoded_by_its_declared_charset(
    site: NewsSite, tmp_path: Path
) -> None:
    report = fetch(site, tmp_path, BOAT_RACE.path)
    assert report.new == 1
    article = archive(tmp_path)[BOAT_RACE.title]
    assert article.paragraphs == tuple(shown(p) for p in BOAT_RACE.paragraphs)


def test_a_redirect_is_followed_to_the_article(site: NewsSite, tmp_path: Path) -> None:
    report = fetch(site, tmp_path, "/chuyen-huong.html")
    assert report.new == 1
    assert archive(tmp_path)[BRIDGE.title].url == site.url(BRIDGE.path)


def test_private_addresses_are_refused_unless_allowed(site: NewsSite, tmp_path: Path) -> None:
    report = fetch(site, tmp_path, BRIDGE.path, allow_private=False)
    [failure] = report.failures
    assert "private, loopback or link-local address refused" in failure.reason
    assert site.hits[BRIDGE.path] == 0


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/tin.html", "javascript:x"])
def test_only_http_and_https_are_fetched(url: str) -> None:
    with Fetcher(allow_private=True) as fetcher, pytest.raises(FetchError, match="only http"):
        fetcher.get(url)


def test_credentials_in_a_url_never_appear_in_the_report(site: NewsSite, tmp_path: Path) -> None:
    secret_url = site.base_url.replace("http://", "http://editor:s3cret@") + "/khong-co.html"
    with Fetcher(allow_private=True, delay_s=0) as fetcher:
        report = fetch_urls([secret_url], tmp_path, fetcher)
    [failure] = report.failures
    assert "s3cret" not in failure.url + failure.reason
    assert failure.url == site.url("/khong-co.html")


def test_a_removed_article_stays_removed_until_its_own_url_is_fetched(
    site: NewsSite, tmp_path: Path
) -> None:
    fetch(site, tmp_path, "/rss/tin-moi.rss")
    removed = remove_article(tmp_path, site.url(TEA.path))
    assert removed.title == TEA.title
    again = fetch(site, tmp_path, "/rss/tin-moi.rss")
    assert (again.new, again.unchanged) == (0, 1)
    assert TEA.title not in archive(tmp_path)
    back = fetch(site, tmp_path, TEA.path)
    assert back.new == 1
    assert TEA.title in archive(tmp_path)
    assert fetch(site, tmp_path, "/rss/tin-moi.rss").unchanged == 2
