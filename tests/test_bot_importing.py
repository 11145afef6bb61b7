"""Admins bring articles in from chat: links, /add, files, forwards, /remove, /sync, schedule."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot import messages
from bot.app import BotApplication
from bot.syncing import SYNC_JOB, scheduled_sync
from index import Searcher
from tests.bot_fixtures import ADMIN_ID, JSON, bot_running, make_settings, sent_to
from tests.fake_telegram import Call, FakeTelegram, parse_html
from tests.news_site import BRIDGE, BUCKWHEAT, TEA, NewsSite, news_page

pytest_plugins = ["tests.bot_fixtures"]

BRIDGE_QUESTION = "Cầu Bến Tượng mới dài bao nhiêu mét?"
CHANNEL = {"id": -1001234567, "type": "channel", "title": "Tin Sông Cầu", "username": "tinsongcau"}
POST_DATE = 1715480000  # 2024-05-12 02:13 UTC, 09:13 in Vietnam


@pytest.fixture
def site() -> Iterator[NewsSite]:
    with NewsSite() as server:
        yield server


@pytest.fixture
async def bot(
    fake: FakeTelegram, site: NewsSite, tiny_data: Path, built_index: Path, bot_searcher: Searcher
) -> AsyncIterator[BotApplication]:
    settings = make_settings(
        fake,
        tiny_data,
        built_index,
        ALLOW_PRIVATE_URLS="true",
        FEEDS=site.url("/rss/tin-moi.rss"),
        SITEMAPS=site.url("/atom/du-lich.xml"),
        SYNC_EVERY="60",
    )
    async with bot_running(settings, bot_searcher) as app:
        app.bot_data.fetch_delay_s = 0
        yield app


def admin_chat(fake: FakeTelegram) -> tuple[JSON, JSON]:
    admin = fake.add_user(ADMIN_ID, "Quản trị")
    return admin, fake.private_chat(admin)


async def reply_to(fake: FakeTelegram, sent: JSON, containing: str) -> str:
    """Wait for the bot's first message after ``sent`` whose visible text has ``containing``."""
    mark = sent["mark"]

    def match(call: Call) -> bool:
        visible = parse_html(call.params["text"])[0]
        later = any(c is call for c in fake.calls[mark:])
        return later and sent_to(sent["chat"]["id"])(call) and containing in visible

    calls = await fake.wait_for("sendMessage", match, timeout=20)
    return parse_html(calls[0].params["text"])[0]


async def says(fake: FakeTelegram, chat: JSON, user: JSON, text: str) -> JSON:
    mark = len(fake.calls)
    return await fake.user_says(chat, user, text) | {"mark": mark}


async def sends(fake: FakeTelegram, chat: JSON, user: JSON, **fields: object) -> JSON:
    mark = len(fake.calls)
    return await fake.user_sends(chat, user, **fields) | {"mark": mark}


async def test_an_admins_link_is_fetched_indexed_and_then_answers_questions(
    fake: FakeTelegram, site: NewsSite, bot: BotApplication
) -> None:
    admin, chat = admin_chat(fake)
    sent = await says(fake, chat, admin, site.url(BRIDGE.path))
    text = await reply_to(fake, sent, "Đã thêm")
    assert text.startswith(f"Đã thêm: {BRIDGE.title} (5 đoạn)\nSáng 12/5, UBND tỉnh Thái Nguyên")
    asked = await says(fake, chat, admin, BRIDGE_QUESTION)
    assert "Cầu dài 312 m" in await reply_to(fake, asked, BRIDGE.title)


async def test_add_reports_why_a_link_could_not_be_added(
    fake: FakeTelegram, site: NewsSite, bot: BotApplication
) -> None:
    admin, chat = admin_chat(fake)
    sent = await says(fake, chat, admin, f"/add {site.url('/khong-co.html')}")
    text = await reply_to(fake, sent, "Không thêm được")
    assert text == (
        f"Không thêm được {site.url('/khong-co.html')}: trang không tồn tại (404) "
        "(HTTP 404 Not Found)"
    )
    usage = await says(fake, chat, admin, "/add")
    assert await reply_to(fake, usage, "Cách dùng") == messages.ADD_USAGE


async def test_non_admins_cannot_add_remove_or_sync(
    fake: FakeTelegram, site: NewsSite, bot: BotApplication, tiny_data: Path
) -> None:
    user = fake.add_user(222, "Bình")
    chat = fake.private_chat(user)
    link = await says(fake, chat, user, site.url(BRIDGE.path))
    assert await reply_to(fake, link, "quản trị") == messages.LINKS_ADMIN_ONLY
    for command in (f"/add {site.url(BRIDGE.path)}", "/remove pho-yen", "/sync"):
        sent = await says(fake, chat, user, command)
        assert await reply_to(fake, sent, "quản trị") == messages.NOT_ADMIN
    document = fake.add_file(b"title: Tin\n\nMot doan.\n", "tin.md")
    sent = await sends(fake, chat, user, document=document)
    assert await reply_to(fake, sent, "quản trị") == messages.UPLOAD_ADMIN_ONLY
    assert site.hits[BRIDGE.path] == 0
    assert (tiny_data / "pho-yen.md").exists()
    assert not fake.calls_of("download")


async def test_an_admins_file_is_saved_indexed_and_its_bad_lines_listed(
    fake: FakeTelegram, bot: BotApplication, tiny_data: Path
) -> None:
    admin, chat = admin_chat(fake)
    rows = (
        '{"id": "hg-1", "title": "Mùa hoa tam giác mạch", "text": "Hà Giang đón 50.000 lượt '
        'khách đến ngắm hoa tam giác mạch."}\n{"id": "hg-2", "title": "Thiếu nội dung"}\n'
    )
    document = fake.add_file(rows.encode(), "Hà Giang.jsonl", "application/jsonl")
    sent = await sends(fake, chat, admin, document=document)
    text = await reply_to(fake, sent, "Đã lưu")
    assert text.splitlines()[:2] == [
        "Đã lưu Hà Giang.jsonl: thêm 1 bài.",
        "• Mùa hoa tam giác mạch (1 đoạn)",
    ]
    assert 'ha-giang.jsonl:2: field "text" is missing or empty' in text
    assert fake.calls_of("getFile") and fake.calls_of("download")
    assert (tiny_data / "uploads" / "ha-giang.jsonl").read_text(encoding="utf-8") == rows
    assert bot.bot_data.searcher.manifest.articles == 6


async def test_a_file_of_another_type_is_refused_before_download(
    fake: FakeTelegram, bot: BotApplication
) -> None:
    admin, chat = admin_chat(fake)
    document = fake.add_file(b"%PDF-1.7", "bao-cao.pdf", "application/pdf")
    sent = await sends(fake, chat, admin, document=document)
    assert await reply_to(fake, sent, "Tôi chỉ nhận") == messages.UPLOAD_WRONG_TYPE
    assert not fake.calls_of("getFile")


async def test_a_post_forwarded_from_a_channel_becomes_an_article(
    fake: FakeTelegram, bot: BotApplication, tiny_data: Path
) -> None:
    admin, chat = admin_chat(fake)
    origin = {"type": "channel", "chat": CHANNEL, "message_id": 77, "date": POST_DATE}
    post = f"{TEA.title}\n{TEA.paragraphs[0]}\n{TEA.paragraphs[1]}"
    sent = await sends(fake, chat, admin, text=post, forward_origin=origin)
    text = await reply_to(fake, sent, "Đã thêm")
    assert text.startswith(f"Đã thêm: {TEA.title} (2 đoạn)\nHợp tác xã chè Hảo Đạt")
    saved = (tiny_data / "telegram" / "tinsongcau" / "77.md").read_text(encoding="utf-8")
    assert saved.startswith(
        f"title: {TEA.title}\ndate: 2024-05-12\nsource: Tin Sông Cầu\n"
        "url: https://t.me/tinsongcau/77\n\nHợp tác xã chè Hảo Đạt"
    )


async def test_remove_deletes_the_article_and_its_paragraphs(
    fake: FakeTelegram, bot: BotApplication, tiny_data: Path
) -> None:
    admin, chat = admin_chat(fake)
    sent = await says(fake, chat, admin, "/remove https://vtc.vn/pho-yen")
    assert await reply_to(fake, sent, "Đã xoá") == "Đã xoá: Phổ Yên đạt nhiều kết quả năm 2023"
    assert not (tiny_data / "pho-yen.md").exists()
    assert bot.bot_data.searcher.manifest.articles == 4
    unknown = await says(fake, chat, admin, "/remove khong-co-bai-nay")
    assert "No article with id or url 'khong-co-bai-nay'" in await reply_to(
        fake, unknown, "Không xoá được"
    )


async def test_sync_fetches_feeds_and_sitemaps_now_and_reports_the_counts(
    fake: FakeTelegram, bot: BotApplication
) -> None:
    admin, chat = admin_chat(fake)
    sent = await says(fake, chat, admin, "/sync")
    await reply_to(fake, sent, "Đang lấy bài mới từ 2 nguồn")
    text = await reply_to(fake, sent, "Đã lấy xong")
    assert "3 bài mới, 0 bài sửa, 0 bài không đổi, 0 lỗi." in text
    assert bot.bot_data.searcher.manifest.articles == 8


async def test_sync_every_schedules_the_same_fetch(
    fake: FakeTelegram, site: NewsSite, bot: BotApplication
) -> None:
    assert bot.job_queue is not None
    [job] = bot.job_queue.get_jobs_by_name(SYNC_JOB)
    assert job.job.trigger.interval.total_seconds() == 3600
    bot.job_queue.run_once(scheduled_sync, 0)
    async with asyncio.timeout(20):
        while bot.bot_data.searcher.manifest.articles < 8:  # noqa: ASYNC110 - no event
            await asyncio.sleep(0.05)
    assert site.hits[BUCKWHEAT.path] == 1


async def test_an_html_page_sent_as_a_file_is_extracted_and_saved_as_an_article(
    fake: FakeTelegram, site: NewsSite, bot: BotApplication, tiny_data: Path
) -> None:
    admin, chat = admin_chat(fake)
    page = news_page(BUCKWHEAT, site.base_url).encode()
    sent = await sends(fake, chat, admin, document=fake.add_file(page, "tam-giac-mach.html"))
    text = await reply_to(fake, sent, "Đã lưu")
    assert text.splitlines() == [
        "Đã lưu tam-giac-mach.html: thêm 1 bài.",
        f"• {BUCKWHEAT.title} (2 đoạn)",
    ]
    saved = (tiny_data / "uploads" / "tam-giac-mach.md").read_text(encoding="utf-8")
    assert saved.startswith(f"title: {BUCKWHEAT.title}\ndate: 2024-10-20\nsource: Báo Sông Cầu")
    assert "Quảng cáo" not in saved
