"""Chat spellings in questions: unambiguous abbreviations written out before a search.

People type questions in Telegram the way they chat ("lũ ninh thuận gà vịt chết bn", "có
đc bồi thường ko"). The archive is written in full words, and the embedding model and the
answer-kind features (``index.ranking``) read "bao nhiêu" far better than "bn". Only the
question is rewritten (paragraphs are quoted verbatim, so they are never touched), and only
entries that cannot be another word in a news question:

- left out as ambiguous: "k" (Bệnh viện K, "50k"), "dc" (Washington DC), "hong" (hồng),
  "vs" (versus), "ng" (Ng. = Nguyễn), "bh" (bảo hiểm), "tr" (triệu);
- "bn" and "j" only as the question's last word: elsewhere "BN" is often "bệnh nhân"
  ("BN 91") and "J" a letter of a name.
"""

from __future__ import annotations

import re

from index.text import fold, is_plain

ANYWHERE = {
    "ko": "không",
    "khg": "không",
    "kh0": "không",
    "đc": "được",
    "đươc": "được",
    "ntn": "như thế nào",
    "bnhieu": "bao nhiêu",
    "bjo": "bao giờ",
    "bgio": "bao giờ",
    "sđt": "số điện thoại",
    "sdt": "số điện thoại",
}
LAST_WORD = {"bn": "bao nhiêu", "j": "gì"}

_WORD = re.compile(r"\w+", re.UNICODE)


def write_out(question: str) -> str:
    """Return ``question`` with chat abbreviations written out (other text unchanged).

    Args:
        question: canonical text (``index.text.canonical_text``): NFC, one tone style.

    Returns:
        The same text where a whole word of :data:`ANYWHERE` (any case) is replaced by its
        full form, and the last word too when it is in :data:`LAST_WORD`. A question typed
        without diacritics gets the full forms without them too, so that it is still read as
        such (``index.accents`` puts them back for the whole question).
    """
    words = list(_WORD.finditer(question))
    if not words:
        return question
    plain = is_plain(question)
    last = words[-1]
    out, end = [], 0
    for word in words:
        key = word.group().lower()
        full = ANYWHERE.get(key) or (LAST_WORD.get(key) if word is last else None)
        if full:
            out += [question[end : word.start()], fold(full) if plain else full]
            end = word.end()
    return "".join([*out, question[end:]]) if out else question
