"""`index_tokens` for many cells at once, in numpy: what the build indexes a table with.

`tokens.index_tokens` is the definition of a cell's FTS5 document; calling it once per cell
costs ~8 µs per row of the bench table (Python work for every character and every bigram),
more than FTS5 itself. Here a batch of cells is joined into one string and its code points go
through array operations instead: each character is normalised through a table (filled on first
sight of each character by `normalize.normalize_char`, so it is exactly the same mapping), its
class (CJK, word, separator) looked up, and every position emits up to three code points:

    the character itself (a separator emits a space),
    the next character where both are CJK (the bigram),
    a space after a CJK character, or between a word and a following CJK character.

That yields the same tokens in the same order as `index_tokens` (only the runs of spaces
between them differ, which FTS5's `ascii` tokenizer does not see). Characters whose
normalisation is longer than one character (ß → ss, ㈱ → (株)) make the whole batch go through
`normalize` as a string first; a cell holding the batch separator (NUL) goes through
`index_tokens` on its own. `tests/test_search_groundtruth.py` checks both ways agree.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .normalize import is_cjk, is_word, normalize, normalize_char
from .tokens import index_tokens

_SIZE = 0x110000
_SEP, _CJK, _WORD, _NUL = 0, 1, 2, 3
_SPACE, _FILL = ord(" "), 0xFFFFFFFF  # _FILL is no code point: marks "emit nothing here"

# Filled on first sight of each code point (a dataset uses a few thousand of the 1.1 million).
# `_info` packs what a batch needs of a code point, so one look-up per character gives it all:
# bits 0–20 its one-character normalisation, 21–22 the class of that, 23 "the normalisation
# is longer than one character", 24 "learnt" (the highest bit: a batch is all learnt when its
# smallest entry has it).
_CP, _CLASS_SHIFT, _LONG, _KNOWN = (1 << 21) - 1, 21, 1 << 23, 1 << 24
_info = np.zeros(_SIZE, dtype=np.uint32)
_class = np.zeros(_SIZE, dtype=np.uint8)  # the class of the code point itself


def _class_of(ch: str) -> int:
    return _NUL if ch == "\0" else _CJK if is_cjk(ch) else _WORD if is_word(ch) else _SEP


def _learn(cps: np.ndarray) -> None:
    new = np.unique(cps[_info.take(cps) < _KNOWN])
    for cp in new.tolist():
        ch = chr(cp)
        n = normalize_char(ch)
        _class[cp] = _class_of(ch)
        if len(n) == 1:
            _info[cp] = _KNOWN | _class_of(n) << _CLASS_SHIFT | ord(n)
        else:
            _info[cp] = _KNOWN | _LONG


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def index_documents(cells: Sequence[object]) -> list[str]:
    """The FTS5 document of each cell: the tokens of `index_tokens(cell)`, in order."""
    texts = ["" if not c else str(c) for c in cells]
    joined = "\0".join(texts)
    if joined.count("\0") != len(texts) - 1:  # a cell holds NUL: the separator of the batch
        return [index_tokens(t) for t in texts]
    return [doc.strip() for doc in index_text(joined).split("\0")]


def index_text(joined: str) -> str:
    """The documents of NUL-separated cells, still NUL-separated: what `index_documents` splits.

    No cell may hold NUL itself (the caller counts them). The build passes the text
    SQLite concatenated (`group_concat`) straight in, so a batch costs no Python object per
    cell on the way in; spaces may lead, trail and repeat inside a document (FTS5 does not see
    them).
    """
    if not joined:
        return joined
    cps = _code_points(joined)
    info = _info.take(cps)
    if info.min() < _KNOWN:
        _learn(cps)
        info = _info.take(cps)
    if (info & _LONG).any():  # ß → ss, ㈱ → (株): the batch is normalised as a string first
        cps = _code_points(normalize(joined))
        _learn(cps)
        kind: np.ndarray = _class.take(cps)
    else:
        kind = (info >> _CLASS_SHIFT) & 3
        cps = info & _CP
    cjk = kind == _CJK
    after = np.empty_like(kind)  # the class of the next character (a separator after the last)
    after[:-1], after[-1] = kind[1:], _SEP
    cjk_after = after == _CJK
    out = np.full((len(cps), 3), _FILL, dtype=np.uint32)
    out[:, 0] = np.where(kind == _SEP, _SPACE, cps)
    pair = cjk & cjk_after
    out[:-1, 1][pair[:-1]] = cps[1:][pair[:-1]]
    out[:, 2][cjk | ((kind == _WORD) & cjk_after)] = _SPACE
    flat = out.ravel()
    return flat[flat != _FILL].tobytes().decode("utf-32-le", "surrogatepass")
