"""Telegram layer of the Vietnamese news QA bot: questions in, verbatim quoted paragraphs out."""

from __future__ import annotations
