"""Index terms of BM25: syllables and syllable bigrams, folded and accented.

Vietnamese words are mostly two or more syllables ("xuất khẩu", "Phổ Yên"), so adjacent
syllable pairs carry most of the meaning. Every syllable and bigram is indexed twice: folded
("xuat", "xuat_khau"), so a question typed without diacritics matches, and accented
("=xuất", "=xuất_khẩu", tone marks in canonical placement), so a question typed with them
tells "mà" from "ma" and ranks exact spellings first. One index with both kinds of term equals
the sum of two BM25 indexes (document lengths double uniformly); ``index.stores.bm25`` scores them.
"""

from __future__ import annotations

import itertools

from index.text import canonical_text, token_spans

ACCENTED = "="


def terms(text: str) -> list[str]:
    """Return the index terms of a text: syllables and bigrams, folded and accented."""
    canonical = canonical_text(text).lower()
    spans = token_spans(canonical)
    folded = [token for token, _, _ in spans]
    accented = [ACCENTED + canonical[start:end].replace(",", ".") for _, start, end in spans]
    return [*_with_bigrams(folded), *_with_bigrams(accented)]


def _with_bigrams(syllables: list[str]) -> list[str]:
    return syllables + [
        f"{a}_{b.removeprefix(ACCENTED)}" for a, b in itertools.pairwise(syllables)
    ]
