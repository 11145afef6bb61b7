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
    """A chunk found for a query, with its ranking score, confidence and highlight spans.

    Attributes:
        chunk: the paragraph, quoted verbatim.
        score: ranking score: the fitted stage-2 ranker's ``weights · features``
            (``index.ranker``), or, for a model without fitted weights, the stage-1 mix of
            dense and lexical z-scores. Unbounded (typically -2..8); only the order within one
            query means something.
        dense_score: cosine of the query and paragraph vectors, in [-1, 1].
        lexical_score: BM25 score of the paragraph for the query, >= 0 (0: no shared term).
        highlights: ``(start, end)`` character offsets into ``chunk.text`` of the words
            that matched the query, sorted and non-overlapping.
        confidence: the no-answer decision's probability, in [0, 1], that the chunk answers
            the query (``index.ranker``); ``Searcher.search`` quotes it only at or above
            ``MIN_CONFIDENCE``.
    """

    chunk: Chunk
    score: float
    dense_score: float = 0.0
    lexical_score: float = 0.0
    highlights: tuple[tuple[int, int], ...] = field(default=())
    confidence: float = 1.0
