"""Vietnamese text normalisation, tone-mark canonicalisation, folding and tokenisation.

Three levels, each built on the previous one:

* :func:`normalize_text` keeps the author's spelling (quotes are shown verbatim) and only
  cleans encoding noise: NFC, invisible characters, whitespace runs.
* :func:`canonical_text` also moves tone marks to one placement style ("hoà" -> "hòa"),
  so both spellings of a word compare equal while the text stays readable.
* :func:`fold` drops every diacritic and lowercases, for matching what users type
  without accents ("thai nguyen").

:func:`tokenize` and :func:`token_spans` split folded text into retrieval tokens; the
spans point into ``normalize_text(text)`` so matched words can be highlighted there.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata

NORMALIZER_VERSION: int = 2
"""Recorded in the index manifest; bump whenever any function here changes its output."""

# Zero-width space/non-joiner/joiner, word joiner, BOM and soft hyphen: invisible, but they
# split words for matching ("Thái\u200bNguyên" must still match "Thái Nguyên").
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))

_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")  # huyền, sắc, ngã, hỏi, nặng
_VOWELS = frozenset("aăâeêioôơuưy")
_SHAPED = frozenset("ăâêôơư")

# Vowel nuclei (glides included, tone marks removed) of real Vietnamese syllables. Words
# whose vowels are not one of these (English, abbreviations, typos) are never touched.
_NUCLEI_LIST = """
    a ă â e ê i o ô ơ u ư y
    ai ao au ay âu ây eo êu ia iê iu oa oă oe oi ôi ơi oo ua uâ uê ui uô uơ uy ưa ưi ươ ưu yê
    iêu oai oao oay oeo uây uôi uya uyê uyu ươi ươu yêu
"""
_NUCLEI = frozenset(_NUCLEI_LIST.split())

# Initial consonant, vowel nucleus, final consonant of a lowercase toneless syllable.
# "gi" and "qu" are tried before "g"/"q" so "già", "quả" parse as gi+a, qu+a; the regex
# backtracks to g+i for "gì", "gìn" where i is the only vowel.
_SYLLABLE = re.compile(
    r"(ngh|ng|gh|gi|qu|ch|kh|nh|ph|th|tr|[bcdđghklmnprstvx]?)([aăâeêioôơuưy]+)(ch|ng|nh|[cmnpt]?)"
)

# A word: letters plus any combining marks left over after NFC (so that such leftovers
# stay inside the word and make it unparseable instead of splitting it).
_WORD = re.compile(r"(?:[^\W\d_]|[\u0300-\u036f])+")

# A token: letters and digits; "." or "," between two digits stays inside (one number).
_TOKEN = re.compile(r"(?:[^\W_]|(?<=\d)[.,](?=\d))+")

# Đ/đ plus look-alikes typed instead of it: Icelandic eth Ð/ð and African D Ɖ/ɖ.
_D_LIKE = frozenset("\u0110\u0111\u00d0\u00f0\u0189\u0256")


def normalize_text(text: str) -> str:
    """Return ``text`` in NFC with invisible characters removed and whitespace collapsed.

    Tone marks stay where the author put them. Every whitespace run (newlines included)
    becomes one space and the ends are stripped. Idempotent.
    """
    # Invisible characters go first: they can sit between a letter and its combining mark
    # and would block NFC composition.
    composed = unicodedata.normalize("NFC", text.translate(_INVISIBLE))
    return " ".join(composed.split())


def canonical_text(text: str) -> str:
    """Return :func:`normalize_text` of ``text`` with tone marks in the traditional place.

    The traditional ("old") style used by most Vietnamese news is canonical: "hòa",
    "thủy", "khỏe", "Thanh Hóa"; "hoàn", "quyết", "người" are unchanged. Only words that
    parse as one Vietnamese syllable with exactly one tone mark are changed; others
    (English, abbreviations, numbers) are kept. Case is kept, every character stays one
    character, so the result has the same length as ``normalize_text(text)``. Idempotent.
    """
    return _WORD.sub(lambda match: _canonical_word(match.group()), normalize_text(text))


# News text repeats a few thousand syllables: memoising makes indexing 100k paragraphs ~2x faster.
@functools.lru_cache(maxsize=1 << 16)
def _canonical_word(word: str) -> str:
    """Move the tone mark of one NFC word to its canonical vowel, or return it unchanged."""
    if word.isascii():
        return word
    bases: list[str] = []  # each character without its tone mark, shape marks kept
    tones: list[str] = []  # each character's tone marks
    for char in word:
        decomposed = unicodedata.normalize("NFD", char)
        marks = decomposed[1:]
        tones.append("".join(mark for mark in marks if mark in _TONES))
        shape = "".join(mark for mark in marks if mark not in _TONES)
        bases.append(unicodedata.normalize("NFC", decomposed[0] + shape))
    toned = [index for index, tone in enumerate(tones) if tone]
    if len(toned) != 1 or len(tones[toned[0]]) != 1:
        return word
    source = toned[0]
    lowered = "".join(bases).lower()
    match = _SYLLABLE.fullmatch(lowered)
    # Length check: a few letters lowercase to two characters, which would shift indexes.
    if match is None or len(lowered) != len(word) or match.group(2) not in _NUCLEI:
        return word
    # The tone may sit on the vowel of "gi"/"qu" ("gìa", "qủa" typos) but not on a consonant.
    if lowered[source] not in _VOWELS:
        return word
    target = match.start(2) + _tone_index(match.group(2), has_final=bool(match.group(3)))
    if target == source:
        return word
    chars = list(word)
    chars[source] = bases[source]
    chars[target] = unicodedata.normalize("NFC", bases[target] + tones[source])
    return "".join(chars)


def _tone_index(nucleus: str, *, has_final: bool) -> int:
    """Return the index in ``nucleus`` of the vowel that carries the tone (old style)."""
    shaped = [index for index, vowel in enumerate(nucleus) if vowel in _SHAPED]
    if shaped:
        # ă â ê ô ơ ư always take the tone; in "ươ" it is the second: "người", "thuở".
        return shaped[-1]
    if has_final:
        return len(nucleus) - 1  # "hoàn", "toán", "huỳnh"
    if len(nucleus) == 3:
        return 1  # "ngoài", "khuỷu", "xoáy"
    # One vowel, or two in an open syllable: the first ("hòa", "thủy", "khỏe", "mùa").
    return 0


@functools.cache  # few distinct characters, looked up for every character of every search
def _fold_char(char: str) -> str:
    """Return one character lowercased without diacritics; "" for a lone combining mark."""
    if char in _D_LIKE:
        return "d"
    stripped = "".join(
        part for part in unicodedata.normalize("NFD", char) if unicodedata.category(part) != "Mn"
    )
    # Recompose what NFD split without marks (Hangul syllables) to keep one character.
    return unicodedata.normalize("NFC", stripped).lower()


class _FoldTable(dict[int, str]):
    """``str.translate`` table of :func:`_fold_char`, filled as characters are met."""

    def __missing__(self, code: int) -> str:
        folded = self[code] = _fold_char(chr(code))
        if len(folded) != 1:
            _UNEVEN.add(chr(code))
        return folded


_FOLD_TABLE = _FoldTable()
_UNEVEN: set[str] = set()  # characters met so far whose folding is not one character


def fold(text: str) -> str:
    """Return :func:`normalize_text` of ``text`` lowercased, without diacritics, đ -> d.

    Folding is per character, so on ordinary text (Vietnamese, Latin, digits) the result
    has the same length as ``normalize_text(text)``; combining marks that NFC could not
    attach to a letter disappear. "Giá trị xuất khẩu Phổ Yên" -> "gia tri xuat khau pho yen".
    """
    return normalize_text(text).translate(_FOLD_TABLE)


def is_plain(text: str) -> bool:
    """Tell whether ``text`` was typed without any Vietnamese diacritic (nor đ)."""
    return fold(text) == text.lower()


def tokenize(text: str) -> list[str]:
    """Return the folded tokens of ``text`` for lexical retrieval.

    A token is a maximal run of letters and digits, so every Vietnamese syllable is a
    token and "COVID-19" gives "covid", "19". A "." or "," between two digits stays
    inside the token: "25,872", "885.972" and "1.000.000" are one number each. The two
    separators are one for matching ("121,5" and "121.5" both give "121.5"): "," is the decimal
    mark in Vietnamese and the thousands mark in English, and users type either, so a figure
    finds the paragraph whichever mark it was written with. Other separators split:
    "13/12" -> "13", "12" and "2015-2020" -> "2015", "2020", so a query
    for one part of a date or range still matches. "email@x.vn" -> "email", "x", "vn".
    """
    return [_match_form(token) for token in _TOKEN.findall(fold(text))]


def _match_form(token: str) -> str:
    """Return a token with the separators inside a number unified ("121,5" -> "121.5")."""
    return token.replace(",", ".")


def token_spans(text: str) -> list[tuple[str, int, int]]:
    """Return :func:`tokenize` tokens with ``(start, end)`` offsets into ``normalize_text(text)``.

    Offsets are mapped character by character, so they stay right when folding changes
    the length; a combining mark that follows a token's last letter is inside the span.
    """
    normalized = normalize_text(text)
    whole = normalized.translate(_FOLD_TABLE)  # first: it records new uneven characters
    if _UNEVEN.isdisjoint(normalized):  # the usual case: offsets carry over as they are
        return [(_match_form(m.group()), m.start(), m.end()) for m in _TOKEN.finditer(whole)]
    pieces = [_FOLD_TABLE[ord(char)] for char in normalized]
    folded: list[str] = []
    starts: list[int] = []  # for each folded character: start of its source character
    ends: list[int] = []  # for each folded character: end of its source character
    for index, piece in enumerate(pieces):
        if not piece and ends:
            ends[-1] = index + 1  # a dropped mark belongs to the preceding letter
        folded.append(piece)
        starts.extend([index] * len(piece))
        ends.extend([index + 1] * len(piece))
    return [
        (_match_form(match.group()), starts[match.start()], ends[match.end() - 1])
        for match in _TOKEN.finditer("".join(folded))
    ]


_SHAPES = {"a": "aăâ", "e": "eê", "o": "oôơ", "u": "uư", "i": "i", "y": "y"}
_TONE_MARKS = (
    "",
    "\u0300",
    "\u0301",
    "\u0309",
    "\u0303",
    "\u0323",
)  # ngang huyền sắc hỏi ngã nặng
_STOP_FINALS = frozenset({"c", "ch", "p", "t"})


@functools.cache
def accent_variants(syllable: str) -> tuple[str, ...]:
    """Return every Vietnamese spelling that folds to ``syllable``, tone marks in canonical place.

    ``"nguoi"`` gives ``"nguôi"``, ``"người"``, ``"ngươi"``, … (about 10-40 spellings); a token
    that is not a folded Vietnamese syllable (a number, an English word) gives ``()``. Syllables
    ending in c/ch/p/t only take the sắc and nặng tones. Used to put back the diacritics of a
    question typed without them (see ``index.accents``).
    """
    match = _SYLLABLE.fullmatch(syllable)
    if match is None or not syllable.isascii():
        return ()
    initial, nucleus, final = match.groups()
    initials = ("d", "đ") if initial == "d" else (initial,)
    shaped = ["".join(p) for p in itertools.product(*(_SHAPES[v] for v in nucleus))]
    tones = (_TONE_MARKS[2], _TONE_MARKS[5]) if final in _STOP_FINALS else _TONE_MARKS
    found = []
    for shape in (s for s in shaped if s in _NUCLEI):
        at = _tone_index(shape, has_final=bool(final))
        for tone in tones:
            marked = shape[:at] + unicodedata.normalize("NFC", shape[at] + tone) + shape[at + 1 :]
            found += [first + marked + final for first in initials]
    return tuple(dict.fromkeys(found))
