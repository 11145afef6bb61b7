"""Buttons under an answer: "Xem thêm" (the next hits) and "Đoạn kế tiếp" (the next paragraph).

Callback data is ``<action>:<generation>:<key>:<number>``, at most 64 bytes. The hits behind
it live in a bounded LRU ``PageStore`` in ``bot_data``; ``/reindex`` starts a new generation,
which makes every older button stale.
"""

from __future__ import annotations

import re
import secrets
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import messages
from index import Hit

MORE, NEXT = "more", "next"
MAX_STORED_QUESTIONS = 2000
BUTTONS_PER_ROW = 2
_DATA_RE = re.compile(r"(more|next):(\d{1,12}):([0-9a-f]{8}):(\d{1,4})")


@dataclass(frozen=True)
class ButtonData:
    """What a button does: show page ``number`` (more) or follow hit ``number`` (next)."""

    action: str
    generation: int
    key: str
    number: int

    def encode(self) -> str:
        """Return the callback data string (<= 64 bytes)."""
        return f"{self.action}:{self.generation}:{self.key}:{self.number}"

    @classmethod
    def parse(cls, data: object) -> ButtonData | None:
        """Return the button behind callback ``data``, or None if it is not one of ours."""
        match = _DATA_RE.fullmatch(data) if isinstance(data, str) else None
        if match is None:
            return None
        return cls(match[1], int(match[2]), match[3], int(match[4]))


@dataclass
class Pages:
    """The hits of one question, shown ``page_size`` at a time, and the buttons pressed."""

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
    """The pages behind live buttons: least recently used first out, one index generation."""

    def __init__(self, max_questions: int = MAX_STORED_QUESTIONS) -> None:
        """Keep at most ``max_questions`` entries."""
        self.generation = 0
        self.max_questions = max_questions
        self._pages: OrderedDict[str, Pages] = OrderedDict()

    def __len__(self) -> int:
        """Return how many entries are stored."""
        return len(self._pages)

    def add(self, pages: Pages) -> str:
        """Store ``pages`` under a new random key and return the key."""
        key = secrets.token_hex(4)
        while key in self._pages:
            key = secrets.token_hex(4)
        self._pages[key] = pages
        while len(self._pages) > self.max_questions:
            self._pages.popitem(last=False)
        return key

    def find(self, button: ButtonData) -> Pages | None:
        """Return the pages behind ``button``; None if expired or from an older index."""
        if button.generation != self.generation:
            return None
        pages = self._pages.get(button.key)
        if pages is not None:
            self._pages.move_to_end(button.key)
        return pages

    def new_generation(self) -> None:
        """Forget every page: the index changed, so old buttons become stale."""
        self.generation += 1
        self._pages.clear()

    def keyboard(
        self, key: str, pages: Pages, page: int, continued: Sequence[bool]
    ) -> InlineKeyboardMarkup | None:
        """Buttons under page ``page``: "next paragraph" for each hit with ``continued``, "more".

        ``continued[i]`` says whether the i-th hit of the page has a following paragraph.
        """
        first = page * pages.page_size
        numbered = len(continued) > 1
        follow = [
            _button(
                messages.BUTTON_NEXT_NUMBERED.format(number=first + i + 1)
                if numbered
                else messages.BUTTON_NEXT,
                ButtonData(NEXT, self.generation, key, first + i),
            )
            for i, has_next in enumerate(continued)
            if has_next
        ]
        rows = [follow[i : i + BUTTONS_PER_ROW] for i in range(0, len(follow), BUTTONS_PER_ROW)]
        if pages.page(page + 1):
            more = ButtonData(MORE, self.generation, key, page + 1)
            rows.append([_button(messages.BUTTON_MORE, more)])
        return InlineKeyboardMarkup(rows) if rows else None


def _button(label: str, data: ButtonData) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=data.encode())
