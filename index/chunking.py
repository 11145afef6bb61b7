"""Split an article into chunks: one per paragraph, long paragraphs split at sentence ends.

Photo credits ("(Ảnh: thainguyen.gov.vn)", a trailing "Ảnh: Hoài Thanh") are removed.  A
paragraph that carried a credit is a photo caption: it is kept when what remains still says
something (at least ``MIN_CAPTION_WORDS`` words, e.g. "Các đơn vị thi công khẩn trương san lấp
mặt bằng ... Khu công nghiệp Sông Công II ..."), and dropped when it only names the picture
("Quang cảnh hội nghị.").  Chunk text is always a verbatim slice of the paragraph.
"""

from __future__ import annotations

import re

from index.models import Article, Chunk

# multilingual-e5-small reads ~256 tokens usefully; Vietnamese news runs ~3.5 characters per
# XLM-R token (measured on the news sample), so 900 characters stay under that.
DEFAULT_MAX_CHARS = 900
MIN_CAPTION_WORDS = 8

_CREDIT_WORDS = r"(?:ảnh|nguồn ảnh|nguồn|photo|video|clip|đồ họa|đồ hoạ|infographic)"
_PAREN_CREDIT = re.compile(
    rf"\s*[(\[]\s*{_CREDIT_WORDS}\s*(?:minh họa|minh hoạ)?\s*:[^()\[\]]*[)\]]", re.IGNORECASE
)
_TAIL_CREDIT = re.compile(
    rf"(?:^|(?<=[.!?…]))\s*{_CREDIT_WORDS}\s*:\s*[^.!?…:]{{1,80}}$", re.IGNORECASE
)
_ILLUSTRATION = re.compile(r"^[(\[]?\s*ảnh\s+minh\s+ho[aạ]\s*[.)\]]?$", re.IGNORECASE)
# A sentence ends at . ! ? … (optionally closed by a quote or bracket) before an upper-case
# letter, a digit or an opening quote; "TP. Hồ Chí Minh" style abbreviations are kept whole.
_SENTENCE_END = re.compile(
    r"(?<=[.!?…])[\"\u201d\u2019)\]]?\s+(?=[\"\u201c\u2018(\[]?[A-ZÀ-Ỹ0-9Đ])"
)
_ABBREVIATIONS = (
    "TP.",
    "Tp.",
    "ThS.",
    "TS.",
    "PGS.",
    "GS.",
    "BS.",
    "Q.",
    "P.",
    "St.",
    "Mr.",
    "Dr.",
)


def strip_photo_credit(paragraph: str) -> tuple[str, bool]:
    """Return the paragraph without its photo credit, and whether it had one."""
    stripped = _PAREN_CREDIT.sub("", paragraph)
    stripped = _TAIL_CREDIT.sub("", stripped).strip()
    if _ILLUSTRATION.match(stripped):
        return "", True
    return stripped, stripped != paragraph.strip()


def split_sentences(text: str) -> list[str]:
    """Split a paragraph into sentences; joined with single spaces they give it back."""
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if text[start : match.start()].rsplit(" ", 1)[-1] in _ABBREVIATIONS:
            continue
        sentences.append(text[start : match.end()].strip())
        start = match.end()
    sentences.append(text[start:].strip())
    return [s for s in sentences if s]


def split_long(text: str, max_chars: int) -> list[str]:
    """Pack sentences into parts of at most ``max_chars``; overlong sentences split at spaces."""
    if len(text) <= max_chars:
        return [text]
    parts: list[str] = []
    current = ""
    for sentence in split_sentences(text):
        for piece in _split_words(sentence, max_chars):
            if current and len(current) + 1 + len(piece) > max_chars:
                parts.append(current)
                current = piece
            else:
                current = f"{current} {piece}" if current else piece
    if current:
        parts.append(current)
    return parts


def _split_words(sentence: str, max_chars: int) -> list[str]:
    """Split at spaces; a single word longer than ``max_chars`` (a URL) is cut hard."""
    if len(sentence) <= max_chars:
        return [sentence]
    pieces: list[str] = []
    current = ""
    for word in sentence.split(" "):
        for start in range(0, len(word), max_chars):
            piece = word[start : start + max_chars]
            if current and len(current) + 1 + len(piece) > max_chars:
                pieces.append(current)
                current = piece
            else:
                current = f"{current} {piece}" if current else piece
    return [*pieces, current] if current else pieces


def split_article(article: Article, max_chars: int = DEFAULT_MAX_CHARS) -> list[Chunk]:
    """Turn an article into its chunks, in order.

    Paragraphs keep their number in the article as written (1-based, dropped captions
    included), so "đoạn 13" in an answer is the 13th paragraph of the source file.
    """
    kept: list[tuple[int, str]] = []
    for number, paragraph in enumerate(article.paragraphs, start=1):
        text, had_credit = strip_photo_credit(paragraph)
        if text and not (had_credit and len(text.split()) < MIN_CAPTION_WORDS):
            kept.append((number, text))
    chunks: list[Chunk] = []
    for number, paragraph in kept:
        parts = split_long(paragraph, max_chars)
        for part_number, part in enumerate(parts, start=1):
            suffix = f".{part_number}" if len(parts) > 1 else ""
            chunks.append(
                Chunk(
                    chunk_id=f"{article.article_id}#{number}{suffix}",
                    article_id=article.article_id,
                    title=article.title,
                    text=part,
                    paragraph=number,
                    part=part_number,
                    parts=len(parts),
                    position=len(chunks),
                    date=article.date,
                    source=article.source,
                    url=article.url,
                )
            )
    return chunks
