"""Buttons under an answer: "Xem thêm", "Đoạn kế tiếp" and 👍 / 👎, keyed by the answer's id.

Callback data (at most 64 bytes) names the action and the answer log id:
``more:<answer id>:<page>``, ``next:<answer id>:<hit>:<step>`` (the paragraph ``step`` places
after hit ``hit``) and ``vote:<answer id>:up|down``. The hits behind an answer live in a
bounded LRU ``PageStore``; when they are gone (restart, /reindex, eviction) the logged question
is asked again, so buttons keep working.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import messages
from index import DOWN, UP, Hit

MORE, NEXT, VOTE = "more", "next", "vote"
MORE_PATTERN = re.compile(r"^more:(\d{1,18}):(\d{1,4})$")
NEXT_PATTERN = re.compile(r"^next:(\d{1,18}):(\d{1,4}):(\d{1,4})$")
VOTE_PATTERN = re.compile(r"^vote:(\d{1,18}):(up|down)$")
VOTE_VALUES = {"up": UP, "down": DOWN}
MAX_STORED_ANSWERS = 2000
BUTTONS_PER_ROW = 2


@dataclass(frozen=True)
class ButtonData:
    """What a button does: show page ``number`` (more), the paragraph ``step`` places after
    hit ``number`` (next), or vote ``number`` (1 up, -1 down) on answer ``answer_id``."""

    action: str
    answer_id: int
    number: int
    step: int = 0

    def encode(self) -> str:
        """Return the callback data string (<= 64 bytes)."""
        if self.action == VOTE:
            return f"{VOTE}:{self.answer_id}:{'up' if self.number == UP else 'down'}"
        if self.action == NEXT:
            return f"{NEXT}:{self.answer_id}:{self.number}:{self.step}"
        return f"{MORE}:{self.answer_id}:{self.number}"

    @classmethod
    def parse(cls, data: object) -> ButtonData | None:
        """Return the button behind callback ``data``, or None if it is not one of ours."""
        if not isinstance(data, str):
            return None
        if match := MORE_PATTERN.fullmatch(data):
            return cls(MORE, int(match[1]), int(match[2]))
        if match := NEXT_PATTERN.fullmatch(data):
            return cls(NEXT, int(match[1]), int(match[2]), int(match[3]))
        if match := VOTE_PATTERN.fullmatch(data):
            return cls(VOTE, int(match[1]), VOTE_VALUES[match[2]])
        return None


@dataclass
class Pages:
    """The hits of one answer, shown ``page_size`` at a time, and the buttons pressed."""

    hits: tuple[Hit, ...]
    page_size: int
    pressed: set[str] = field(default_factory=set)

    def page(self, number: int) -> tuple[Hit, ...]:
        """Return the hits of page ``number`` (0-based)."""
        return self.hits[number * self.page_size : (number + 1) * self.page_size]

    def holds(self, button: ButtonData) -> bool:
        """Return True if ``button`` points at a page or hit that exists."""
        if button.action == MORE:
            return bool(self.page(button.number))
        return button.number < len(self.hits)

    def press(self, button: ButtonData) -> bool:
        """Record a press; False if this button was pressed before (its answer is shown)."""
        if button.encode() in self.pressed:
            return False
        self.pressed.add(button.encode())
        return True


class PageStore:
    """The pages of recent answers by answer id, least recently used first out."""

    def __init__(self, max_answers: int = MAX_STORED_ANSWERS) -> None:
        """Keep at most ``max_answers`` entries."""
        self.max_answers = max_answers
        self._pages: OrderedDict[int, Pages] = OrderedDict()

    def __len__(self) -> int:
        """Return how many entries are stored."""
        return len(self._pages)

    def add(self, answer_id: int, pages: Pages) -> None:
        """Store ``pages`` under ``answer_id``."""
        self._pages[answer_id] = pages
        self._pages.move_to_end(answer_id)
        while len(self._pages) > self.max_answers:
            self._pages.popitem(last=False)

    def find(self, answer_id: int) -> Pages | None:
        """Return the pages of ``answer_id``; None if evicted or forgotten."""
        pages = self._pages.get(answer_id)
        if pages is not None:
            self._pages.move_to_end(answer_id)
        return pages

    def clear(self) -> None:
        """Forget every page: the index changed, so hits are looked up again."""
        self._pages.clear()


def keyboard(
    answer_id: int, pages: Pages, page: int, continued: Sequence[bool], votes: bool
) -> InlineKeyboardMarkup | None:
    """Buttons under page ``page``: "next paragraph" per hit with ``continued``, "more", votes.

    ``continued[i]`` says whether the i-th hit of the page has a following paragraph.
    """
    first = page * pages.page_size
    numbered = len(continued) > 1
    follow = [
        _button(
            messages.BUTTON_NEXT_NUMBERED.format(number=first + i + 1)
            if numbered
            else messages.BUTTON_NEXT,
            ButtonData(NEXT, answer_id, first + i, 1),
        )
        for i, has_next in enumerate(continued)
        if has_next
    ]
    rows = [follow[i : i + BUTTONS_PER_ROW] for i in range(0, len(follow), BUTTONS_PER_ROW)]
    if pages.page(page + 1):
        rows.append([_button(messages.BUTTON_MORE, ButtonData(MORE, answer_id, page + 1))])
    if votes:
        rows.append(vote_row(answer_id, 0, 0))
    return InlineKeyboardMarkup(rows) if rows else None


def next_keyboard(answer_id: int, hit: int, step: int) -> InlineKeyboardMarkup:
    """The one button under a following paragraph: the paragraph after it."""
    button = _button(messages.BUTTON_NEXT, ButtonData(NEXT, answer_id, hit, step))
    return InlineKeyboardMarkup([[button]])


def vote_row(answer_id: int, up: int, down: int) -> list[InlineKeyboardButton]:
    """The 👍 / 👎 buttons of an answer, showing the counts once someone voted."""
    return [
        _button(_count(messages.BUTTON_UP, up), ButtonData(VOTE, answer_id, UP)),
        _button(_count(messages.BUTTON_DOWN, down), ButtonData(VOTE, answer_id, DOWN)),
    ]


def with_votes(
    markup: InlineKeyboardMarkup, answer_id: int, up: int, down: int
) -> InlineKeyboardMarkup:
    """Return ``markup`` with its vote row relabelled with the counts ``up`` and ``down``."""
    rows = [
        vote_row(answer_id, up, down)
        if any(str(button.callback_data).startswith(f"{VOTE}:") for button in row)
        else list(row)
        for row in markup.inline_keyboard
    ]
    return InlineKeyboardMarkup(rows)


def _count(label: str, count: int) -> str:
    return f"{label} {count}" if count else label


def _button(label: str, data: ButtonData) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=data.encode())
