"""Access: ALLOWED_CHAT_IDS for chats and users, and the per-user question rate limit."""

from __future__ import annotations

from telegram import Chat, User

from bot.access import MAX_TRACKED_USERS, QuestionRateLimit, Verdict, is_allowed
from bot.config import Settings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_empty_allow_list_allows_everyone() -> None:
    settings = Settings.from_env({})
    assert is_allowed(settings, Chat(-100, Chat.SUPERGROUP), User(5, "A", False))


def test_allow_list_matches_the_chat_the_user_or_an_admin() -> None:
    settings = Settings.from_env({"ALLOWED_CHAT_IDS": "-100555,7", "ADMIN_IDS": "1"})
    group, other_group = Chat(-100555, Chat.SUPERGROUP), Chat(-100666, Chat.SUPERGROUP)
    stranger, listed, admin = User(5, "A", False), User(7, "B", False), User(1, "C", False)
    assert is_allowed(settings, group, stranger)
    assert not is_allowed(settings, other_group, stranger)
    assert is_allowed(settings, other_group, listed)
    assert is_allowed(settings, Chat(1, Chat.PRIVATE), admin)
    assert not is_allowed(settings, Chat(5, Chat.PRIVATE), stranger)
    assert not is_allowed(settings, None, None)


def test_rate_limit_allows_per_minute_then_warns_once_then_drops() -> None:
    clock = Clock()
    limit = QuestionRateLimit(2, clock)
    assert [limit.check(1) for _ in range(4)] == [
        Verdict.ALLOW,
        Verdict.ALLOW,
        Verdict.WARN,
        Verdict.DROP,
    ]
    assert limit.check(2) is Verdict.ALLOW  # per user
    clock.now += 60
    assert limit.check(1) is Verdict.ALLOW
    assert limit.check(1) is Verdict.ALLOW
    assert limit.check(1) is Verdict.WARN  # warned again after having been allowed


def test_rate_limit_window_slides() -> None:
    clock = Clock()
    limit = QuestionRateLimit(2, clock)
    limit.check(1)
    clock.now += 30
    limit.check(1)
    clock.now += 31
    assert limit.check(1) is Verdict.ALLOW  # the first question left the window
    assert limit.check(1) is Verdict.WARN


def test_zero_means_unlimited_and_idle_users_are_forgotten() -> None:
    assert all(QuestionRateLimit(0).check(1) is Verdict.ALLOW for _ in range(100))
    clock = Clock()
    limit = QuestionRateLimit(1, clock)
    for user_id in range(MAX_TRACKED_USERS + 1):
        limit.check(user_id)
    clock.now += 61
    limit.check(-1)
    assert len(limit._asked) == 1
