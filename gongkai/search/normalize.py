"""Per-character text normalisation shared by the index and the queries.

Each character is normalised on its own: NFKC (full-width → half-width, compatibility forms),
case folding, then Traditional → Simplified through OpenCC's `t2s` conversion of that one
character. Because the mapping is per character, `normalize(a + b) == normalize(a) +
normalize(b)`: a substring of the original text always normalises to a substring of the
normalised text, so normalising never changes which rows contain a query.

OpenCC (the `opencc` package on PyPI, the official binding of BYVoid's OpenCC, maintained and
shipped as a compiled wheel) is used rather than zhconv (last released 2021) or a hand-made
table. Converting one character alone gives OpenCC's default reading for it (乾 → 干).
"""

from __future__ import annotations

import unicodedata

import opencc

_T2S = opencc.OpenCC("t2s")

# Scripts written without spaces between words: every character is searchable on its own.
_CJK_RANGES = (
    (0x3007, 0x3007),  # 〇
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3100, 0x312F),  # Bopomofo
    (0x31A0, 0x31BF),
    (0x31F0, 0x31FF),
    (0x3400, 0x4DBF),  # CJK Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xF900, 0xFAFF),  # CJK Compatibility Ideographs
    (0x20000, 0x323AF),  # Extensions B–H and compatibility supplement
)


def is_cjk(ch: str) -> bool:
    """A character indexed on its own (a Han, kana or bopomofo letter or number)."""
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _CJK_RANGES) and unicodedata.category(ch)[0] in "LN"


def is_word(ch: str) -> bool:
    """A character of a Latin-style word (letters and digits of space-separated scripts)."""
    return ch.isalnum() and not is_cjk(ch)


def normalize_char(ch: str) -> str:
    out = unicodedata.normalize("NFKC", ch).casefold()
    if any(is_cjk(c) for c in out):
        out = "".join(_T2S.convert(c) if is_cjk(c) else c for c in out)
    return out


class _Table(dict):
    """A `str.translate` table filled on first sight of each character."""

    def __missing__(self, cp: int) -> str:
        value = normalize_char(chr(cp))
        self[cp] = value
        return value


_TABLE = _Table()
# ASCII: only upper case changes; filling it up front keeps the common path a dict hit.
for _cp in range(128):
    _TABLE[_cp] = chr(_cp).lower()


def normalize(text: str) -> str:
    """NFKC, case folding and Traditional → Simplified, one character at a time."""
    return text.translate(_TABLE)


def normalize_with_offsets(text: str) -> tuple[str, list[int]]:
    """The normalised text and, for each of its characters, the index of the original character
    it came from (for highlighting matches in the original text)."""
    parts, origin = [], []
    for i, ch in enumerate(text):
        n = _TABLE[ord(ch)]
        parts.append(n)
        origin.extend([i] * len(n))
    return "".join(parts), origin
