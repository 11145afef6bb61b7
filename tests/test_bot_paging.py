"""Buttons: callback data <= 64 bytes that parses back, per-action patterns, bounded LRU pages."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot import messages
from bot.paging import (
    MORE,
    MORE_PATTERN,
    NEXT,
    NEXT_PATTERN,
    VOTE,
    VOTE_PATTERN,
    ButtonData,
    Pages,
    PageStore,
    keyboard,
    with_votes,
)
from index import DOWN, UP, Chunk, Hit


def hits(count: int) -> tuple[Hit, ...]:
    return tuple(
        Hit(Chunk(f"a#{n}", "a", "Tin", f"đoạn {n}", paragraph=n + 1, position=n), 0.5)
        for n in range(count)
    )


@given(
    action=st.sampled_from([MORE, NEXT, VOTE]),
    answer_id=st.integers(1, 10**18 - 1),
    number=st.integers(0, 9999),
    step=st.integers(1, 9999),
)
def test_callback_data_fits_64_bytes_parses_back_and_matches_only_its_pattern(
    action: str, answer_id: int, number: int, step: int
) -> None:
    if action == VOTE:
        number = UP if number % 2 else DOWN
    button = ButtonData(action, answer_id, number, step if action == NEXT else 0)
    data = button.encode()
    assert 1 <= len(data.encode()) <= 64
    assert ButtonData.parse(data) == button
    patterns = {MORE: MORE_PATTERN, NEXT: NEXT_PATTERN, VOTE: VOTE_PATTERN}
    assert [name for name, p in patterns.items() if p.match(data)] == [action]


def test_foreign_and_old_format_callback_data_is_not_ours() -> None:
    for data in (None, "", "more:0:3fa2c1d0:1", "vote:1:maybe", "other:1:2", 5):
        assert ButtonData.parse(data) is None


def test_store_keeps_the_most_recently_used_answers_only() -> None:
    store = PageStore(max_answers=2)
    store.add(1, Pages(hits(1), 1))
    store.add(2, Pages(hits(1), 1))
    assert store.find(1) is not None  # 1 is now the newest
    store.add(3, Pages(hits(1), 1))
    assert len(store) == 2
    assert store.find(2) is None
    assert store.find(1) is not None
    store.clear()
    assert store.find(3) is None


def test_pages_hold_only_existing_pages_and_hits_and_remember_presses() -> None:
    pages = Pages(hits(5), page_size=2)
    assert [len(pages.page(n)) for n in range(4)] == [2, 2, 1, 0]
    assert pages.holds(ButtonData(MORE, 7, 2))
    assert not pages.holds(ButtonData(MORE, 7, 3))
    assert pages.holds(ButtonData(NEXT, 7, 4, 1))
    assert not pages.holds(ButtonData(NEXT, 7, 5, 1))
    button = ButtonData(MORE, 7, 1)
    assert pages.press(button)
    assert not pages.press(button)


def labels(markup: object) -> list[list[tuple[str, object]]]:
    rows = markup.inline_keyboard  # type: ignore[attr-defined]
    return [[(b.text, b.callback_data) for b in row] for row in rows]


def test_keyboard_has_next_buttons_more_and_votes_only_when_asked() -> None:
    pages = Pages(hits(5), page_size=2)
    assert labels(keyboard(7, pages, 1, [True, False], votes=False)) == [
        [(messages.BUTTON_NEXT_NUMBERED.format(number=3), "next:7:2:1")],
        [(messages.BUTTON_MORE, "more:7:2")],
    ]
    single = Pages(hits(1), page_size=1)
    assert keyboard(7, single, 0, [False], votes=False) is None
    assert labels(keyboard(7, single, 0, [False], votes=True)) == [
        [(messages.BUTTON_UP, "vote:7:up"), (messages.BUTTON_DOWN, "vote:7:down")]
    ]


def test_vote_counts_replace_the_vote_row_and_keep_the_others() -> None:
    markup = keyboard(7, Pages(hits(1), 1), 0, [True], votes=True)
    assert markup is not None
    assert labels(with_votes(markup, 7, 2, 0)) == [
        [(messages.BUTTON_NEXT, "next:7:0:1")],
        [(f"{messages.BUTTON_UP} 2", "vote:7:up"), (messages.BUTTON_DOWN, "vote:7:down")],
    ]
