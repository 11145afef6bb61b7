"""``python -m index fetch`` in a subprocess, then ``search`` finds a fetched paragraph."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bot_fixtures import environment
from tests.conftest import REPO
from tests.news_site import BRIDGE, BUCKWHEAT, NewsSite

QUESTION = "Cầu Bến Tượng mới dài bao nhiêu mét?"
ANSWER = "Cầu dài 312 m, rộng 21 m"


@pytest.fixture
def site() -> Iterator[NewsSite]:
    with NewsSite() as server:
        yield server


def run(args: list[str], cwd: Path, launcher: str = "tests.launch_index", **env: str) -> str:
    """Run ``python -m <launcher> args``; return stdout + stderr; fail on a non-zero exit."""
    done = subprocess.run(
        [sys.executable, "-m", launcher, *args],
        cwd=cwd,
        env=dict(environment(PYTHONPATH=str(REPO), **env)),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output


def dirs(tmp_path: Path) -> list[str]:
    return [
        "--data-dir",
        str(tmp_path / "data"),
        "--index-dir",
        str(tmp_path / "index"),
        "--cache",
        str(tmp_path / "cache.sqlite"),
    ]


def test_fetch_of_a_feed_then_search_quotes_a_fetched_paragraph(
    site: NewsSite, tmp_path: Path
) -> None:
    urls = [site.url("/rss/tin-moi.rss"), site.url("/khong-co.html")]
    fetched = run(
        ["fetch", *urls, "--delay", "0", *dirs(tmp_path)],
        REPO,
        ALLOW_PRIVATE_URLS="true",
    )
    assert "2 new, 0 changed, 0 unchanged, 1 failed" in fetched
    assert f"failed: {site.url('/khong-co.html')}: HTTP 404 Not Found" in fetched
    assert f"new: {BRIDGE.title} (5 paragraphs)" in fetched
    assert "2 articles, 8 paragraphs" in fetched
    answer = run(["search", QUESTION, *dirs(tmp_path)], REPO)
    assert ANSWER in answer
    assert BRIDGE.title in answer


def test_fetch_without_urls_takes_feeds_and_sitemaps_from_dot_env(
    site: NewsSite, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text(
        f"FEEDS={site.url('/atom/du-lich.xml')}\nALLOW_PRIVATE_URLS=true\n", encoding="utf-8"
    )
    first = run(["fetch", "--delay", "0", *dirs(tmp_path)], tmp_path)
    assert f"new: {BUCKWHEAT.title} (2 paragraphs)" in first
    again = run(["fetch", "--delay", "0", *dirs(tmp_path)], tmp_path)
    assert "0 new, 0 changed, 1 unchanged, 0 failed" in again


def test_private_addresses_are_refused_without_allow_private_urls(
    site: NewsSite, tmp_path: Path
) -> None:
    output = run(["fetch", site.url(BRIDGE.path), "--no-index", *dirs(tmp_path)], REPO)
    assert "private, loopback or link-local address refused (ALLOW_PRIVATE_URLS)" in output
    assert "0 new, 0 changed, 0 unchanged, 1 failed" in output


@pytest.mark.slow
def test_fetch_and_search_with_the_real_model(site: NewsSite, tmp_path: Path) -> None:
    model = ["--model-cache", str(REPO / "var" / "models")]
    fetched = run(
        ["fetch", site.url("/sitemap.xml"), "--delay", "0", *dirs(tmp_path), *model],
        REPO,
        launcher="index",
        ALLOW_PRIVATE_URLS="true",
    )
    assert "3 new, 0 changed, 0 unchanged, 0 failed" in fetched
    # The paragraph writes "312 m" where the question says "mét": it ranks first, but in a
    # ten-paragraph archive the no-answer decision gives it 0.46, under the default 0.5.
    ranked = run(
        ["search", QUESTION, "--min-confidence", "0", *dirs(tmp_path), *model],
        REPO,
        launcher="index",
    )
    assert ANSWER in ranked.split("[2]")[0]
    answer = run(
        ["search", "Cầu Bến Tượng rộng bao nhiêu?", *dirs(tmp_path), *model],
        REPO,
        launcher="index",
    )
    assert ANSWER in answer.split("[2]")[0]
