"""Buttons: callback data <= 64 bytes that parses back, bounded LRU pages, stale generations."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot import messages
from bot.paging import MORE, NEXT, ButtonData, Pages, PageStore
from index import Chunk, Hit


def hits(count: int) -> tuple[Hit, ...]:
    return tuple(
        Hit(Chunk(f"a#{n}", "a", "Tin", f"đoạn {n}", paragraph=n + 1, position=n), 0.5)
        for n in range(count)
    )


@given(
    action=st.sampled_from([MORE, NEXT]),
    generation=st.integers(0, 10**12 - 1),
    key=st.text("0123456789abcdef", min_size=8, max_size=8),
    number=st.integers(0, 9999),
)
def test_callback_data_fits_64_bytes_and_parses_back(
    action: str, generation: int, key: str, number: int
) -> None:
    button = ButtonData(action, generation, key, number)
    data = button.encode()
    assert 1 <= len(data.encode()) <= 64
    assert ButtonData.parse(data) == button


def test_foreign_callback_data_is_not_ours() -> None:
    for data in (None, "", "more:1:2:3", "more:0:zzzzzzzz:1", "other:0:0123abcd:1", 5):
        assert ButtonData.parse(data) is None


def test_store_keeps_the_most_recently_used_pages_only() -> None:
    store = PageStore(max_questions=2)
    first = store.add(Pages(hits(1), 1))
    second = store.add(Pages(hits(1), 1))
    assert store.find(ButtonData(NEXT, 0, first, 0)) is not None  # first is now the newest
    third = store.add(Pages(hits(1), 1))
    assert len(store) == 2
    assert store.find(ButtonData(NEXT, 0, second, 0)) is None
    assert store.find(ButtonData(NEXT, 0, first, 0)) is not None
    assert store.find(ButtonData(NEXT, 0, third, 0)) is not None


def test_a_new_generation_makes_every_button_stale() -> None:
    store = PageStore()
    key = store.add(Pages(hits(3), 1))
    store.new_generation()
    assert store.find(ButtonData(MORE, 0, key, 1)) is None
    assert len(store) == 0
    assert store.generation == 1


def test_pages_hold_only_existing_pages_and_hits_and_remember_presses() -> None:
    pages = Pages(hits(5), page_size=2)
    assert [len(pages.page(n)) for n in range(4)] == [2, 2, 1, 0]
    assert pages.holds(ButtonData(MORE, 0, "0" * 8, 2))
    assert not pages.holds(ButtonData(MORE, 0, "0" * 8, 3))
    assert pages.holds(ButtonData(NEXT, 0, "0" * 8, 4))
    assert not pages.holds(ButtonData(NEXT, 0, "0" * 8, 5))
    button = ButtonData(MORE, 0, "0" * 8, 1)
    assert pages.press(button)
    assert not pages.press(button)


def test_keyboard_has_next_buttons_for_continued_hits_and_more_when_there_is_more() -> None:
    store = PageStore()
    pages = Pages(hits(5), page_size=2)
    key = store.add(pages)
    keyboard = store.keyboard(key, pages, 1, [True, False])
    assert keyboard is not None
    labels = [[(b.text, b.callback_data) for b in row] for row in keyboard.inline_keyboard]
    assert labels == [
        [(messages.BUTTON_NEXT_NUMBERED.format(number=3), f"next:0:{key}:2")],
        [(messages.BUTTON_MORE, f"more:0:{key}:2")],
    ]
    single = Pages(hits(1), page_size=1)
    assert store.keyboard(key, single, 0, [False]) is None
    only = store.keyboard(key, single, 0, [True])
    assert only is not None
    assert only.inline_keyboard[0][0].text == messages.BUTTON_NEXT
