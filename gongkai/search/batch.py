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
_known = np.zeros(_SIZE, dtype=bool)
_norm = np.zeros(_SIZE, dtype=np.uint32)  # the one-character normalisation of a code point
_long = np.zeros(_SIZE, dtype=bool)  # its normalisation is not one character
_class = np.zeros(_SIZE, dtype=np.uint8)


def _learn(cps: np.ndarray) -> None:
    new = np.unique(cps[~_known[cps]])
    for cp in new.tolist():
        ch = chr(cp)
        n = normalize_char(ch)
        if len(n) == 1:
            _norm[cp] = ord(n)
        else:
            _long[cp] = True
        _class[cp] = _NUL if cp == 0 else _CJK if is_cjk(ch) else _WORD if is_word(ch) else _SEP
        _known[cp] = True


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def index_documents(cells: Sequence[object]) -> list[str]:
    """The FTS5 document of each cell: the tokens of `index_tokens(cell)`, in order."""
    texts = ["" if not c else str(c) for c in cells]
    joined = "\0".join(texts)
    if joined.count("\0") != len(texts) - 1:  # a cell holds NUL: the separator of the batch
        return [index_tokens(t) for t in texts]
    if not joined:
        return texts
    cps = _code_points(joined)
    _learn(cps)
    if _long[cps].any():
        cps = _code_points(normalize(joined))
        _learn(cps)
    else:
        cps = _norm[cps]
        _learn(cps)  # normalised characters not seen as such yet
    kind = _class[cps]
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
    text = flat[flat != _FILL].tobytes().decode("utf-32-le", "surrogatepass")
    return [doc.strip() for doc in text.split("\0")]
