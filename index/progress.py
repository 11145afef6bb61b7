"""A progress bar for long index builds (one tqdm bar per stage), shared by both CLIs."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from tqdm import tqdm


class ProgressBar:
    """A tqdm bar per build stage; pass it as ``progress`` to ``build_index``."""

    def __init__(self, stream: TextIO | None = None) -> None:
        """Draw the bars on ``stream`` (stderr by default, so stdout stays for answers)."""
        self.stream = stream or sys.stderr
        self._bars: dict[str, Any] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        """Move the bar of ``stage`` to ``done`` of ``total``."""
        bar = self._bars.get(stage)
        if bar is None:
            unit = " paragraphs" if stage == "embed" else ""
            bar = self._bars[stage] = tqdm(total=total, desc=stage, unit=unit, file=self.stream)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()
