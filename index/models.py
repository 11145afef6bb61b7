"""The shared vocabulary of the retrieval core: frozen dataclasses, no logic."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Article:
    """A source news article as read from ``data/``.

    ``paragraphs`` hold the article body, NFC-normalised but otherwise verbatim.
    ``origin`` names the file (and line, for JSONL) the article came from.
    """

    article_id: str
    title: str
    paragraphs: tuple[str, ...]
    date: str = ""
    source: str = ""
    url: str = ""
    origin: str = ""


@dataclass(frozen=True)
class Chunk:
    """An embedded slice of an article: one paragraph, or one part of a long paragraph.

    ``paragraph`` is 1-based within the article; ``part`` is 1-based within the
    paragraph (1 of 1 for a paragraph that was not split).  ``position`` is the
    0-based place of this chunk among its article's chunks, so neighbours are
    ``position - 1`` and ``position + 1``.
    """

    chunk_id: str
    article_id: str
    title: str
    text: str
    paragraph: int
    part: int = 1
    parts: int = 1
    position: int = 0
    date: str = ""
    source: str = ""
    url: str = ""


@dataclass(frozen=True)
class Hit:
    """A chunk found for a query, with its fused score and highlight spans.

    Attributes:
        chunk: the paragraph, quoted verbatim.
        score: fused score, a weighted sum of the dense and lexical z-scores over the
            query's candidates (unbounded, typically -2..4; only its order matters).
        dense_score: cosine of the query and paragraph vectors, in [-1, 1].
        lexical_score: BM25 score of the paragraph for the query, >= 0 (0: no shared term).
        highlights: ``(start, end)`` character offsets into ``chunk.text`` of the words
            that matched the query, sorted and non-overlapping.
        confidence: calibrated probability, in [0, 1], that the chunk answers the query
            (see ``index.search``).
    """

    chunk: Chunk
    score: float
    dense_score: float = 0.0
    lexical_score: float = 0.0
    highlights: tuple[tuple[int, int], ...] = field(default=())
    confidence: float = 1.0
