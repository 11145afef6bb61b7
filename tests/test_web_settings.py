"""FEEDS, SITEMAPS, ALLOW_PRIVATE_URLS (index and bot read them alike) and SYNC_EVERY."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, Settings
from index import SettingsError, WebSettings

TOKEN = {"TELEGRAM_BOT_TOKEN": "123456:TEST"}


def test_feeds_and_sitemaps_are_lists_of_urls_separated_by_commas_or_spaces() -> None:
    web = WebSettings.from_env(
        {
            "FEEDS": "https://baochinhphu.vn/rss/home.rss, https://vtv.vn/rss.xml",
            "SITEMAPS": "https://vtv.vn/sitemap.xml\n  https://vtv.vn/news.xml",
            "ALLOW_PRIVATE_URLS": "true",
        }
    )
    assert web.feeds == ("https://baochinhphu.vn/rss/home.rss", "https://vtv.vn/rss.xml")
    assert web.sources[2:] == ("https://vtv.vn/sitemap.xml", "https://vtv.vn/news.xml")
    assert web.allow_private_urls


def test_a_feed_that_is_not_an_http_url_is_named_in_the_error() -> None:
    with pytest.raises(SettingsError, match="FEEDS must list http"):
        WebSettings.from_env({"FEEDS": "ftp://tin.vn/rss, baochinhphu.vn/rss"})


def test_the_bot_reads_the_same_web_settings_and_sync_every() -> None:
    settings = Settings.from_env(TOKEN | {"FEEDS": "https://vtv.vn/rss.xml", "SYNC_EVERY": "30"})
    assert settings.web.feeds == ("https://vtv.vn/rss.xml",)
    assert settings.sync_every_minutes == 30
    assert not settings.web.allow_private_urls


def test_bad_web_settings_stop_the_bot_with_every_problem_listed() -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(TOKEN | {"SITEMAPS": "sitemap.xml", "SYNC_EVERY": "-5"})
    assert "SITEMAPS must list http(s) URLs" in str(raised.value)
    assert "SYNC_EVERY='-5' must be a whole number" in str(raised.value)
