"""Index text and query expressions: the token scheme behind every search box of the site.

Text is normalised (`normalize.py`) and cut into runs of CJK characters and Latin-style words
(letters and digits); everything else separates. What goes into SQLite FTS5 (tokenizer
`ascii`, which splits only on ASCII spaces and punctuation, so each token we write stays one
token whatever Unicode version SQLite knows) is, per run:

- a word: the word itself (`2023`, `budget`);
- a CJK run c1…cn: for every character the bigram starting there, and for the last one the
  character alone: 维修保养 → `维修 修保 保养 养`.

Queries (measured against one token per character in `gongkai.bench.search`: bigram doclists
are far shorter than those of single common characters, so phrase queries read much less):

- a CJK string of k ≥ 2 characters is the phrase of its k−1 bigrams; every position of a run
  has a token starting with its character, so consecutive bigrams match exactly where the
  string occurs inside one run;
- one CJK character is the prefix query `c*` (any token starting with c, served by the
  one-character prefix index);
- a CJK run followed, inside the query term, by a separator or a word must end there in the
  text too: its last token is the exact single character, which only a run's last character
  produces. So "维修，保养" never matches 修保, and 修保 never matches "维修，保养": a bigram is
  only written for two characters that are adjacent in one run.
- a word is exact inside a term and a prefix at the end of an unquoted term (`budg` finds
  budget); inside a term, separators between a word and CJK text are not significant
  (`2023年` matches "2023 年"), between two CJK runs at least one is required.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from operator import add

from .normalize import is_cjk, is_word, normalize

CJK, WORD, SEP = "c", "w", " "


class _ClassTable(dict):
    """`str.translate` table: each character → its class (CJK, word or separator)."""

    def __missing__(self, cp: int) -> str:
        ch = chr(cp)
        value = CJK if is_cjk(ch) else WORD if is_word(ch) else SEP
        self[cp] = value
        return value


_CLASSES = _ClassTable()
_RUN = re.compile(r"c+|w+")

MAX_TERMS = 16
MAX_QUERY_CHARS = 256


def runs(normalised: str) -> list[tuple[str, str]]:
    """[(class, text)] for the CJK runs and words of normalised text, in order."""
    classes = normalised.translate(_CLASSES)
    return [(classes[m.start()], normalised[m.start() : m.end()]) for m in _RUN.finditer(classes)]


def index_tokens(text: str | None) -> str:
    """The FTS5 document for one cell: space-separated tokens of the normalised text."""
    if not text:
        return ""
    out: list[str] = []
    for kind, seg in runs(normalize(str(text))):
        if kind == WORD:
            out.append(seg)
        else:
            out.extend(map(add, seg, seg[1:]))
            out.append(seg[-1])
    return " ".join(out)


@dataclass(frozen=True)
class Term:
    text: str  # as the user typed it (one whitespace-separated word, or a quoted phrase)
    quoted: bool = False


_TERM = re.compile(r'"([^"]*)"?|“([^”]*)”?|「([^」]*)」?|(\S+)')


def parse(query: str | None) -> list[Term]:
    """The terms of a query: quoted phrases ("…", “…”, 「…」) and whitespace-separated words.
    Several terms mean AND."""
    if not query:
        return []
    terms = []
    for m in _TERM.finditer(query[:MAX_QUERY_CHARS]):
        quoted = next((g for g in m.groups()[:3] if g is not None), None)
        text = quoted if quoted is not None else m.group(4)
        if text and text.strip():
            terms.append(Term(text.strip(), quoted is not None))
    return terms[:MAX_TERMS]


def term_tokens(term: Term) -> list[tuple[str, bool]]:
    """[(token, is_prefix)] for one term: the phrase FTS5 must find."""
    parts = runs(normalize(term.text))
    out: list[tuple[str, bool]] = []
    for i, (kind, seg) in enumerate(parts):
        last = i == len(parts) - 1
        if kind == WORD:
            out.append((seg, last and not term.quoted))
        elif len(seg) == 1 and last:
            out.append((seg, True))
        else:
            out.extend((b, False) for b in map(add, seg, seg[1:]))
            if not last:
                out.append((seg[-1], False))
    return out


Phrase = list[tuple[str, bool]]  # [(token, is_prefix)]: what one term must find, in order


def phrase_expression(tokens: Phrase) -> str:
    # Only the final token can be a prefix (see term_tokens); tokens never hold a double quote.
    phrase = '"' + " ".join(t for t, _ in tokens) + '"'
    return phrase + " *" if tokens[-1][1] else phrase


def match_phrases(query: str | None) -> list[Phrase]:
    """The phrases of a query, one per term: all must be found (AND)."""
    return [p for p in (term_tokens(t) for t in parse(query)) if p]


@functools.lru_cache(maxsize=1024)
def match_expression(query: str | None) -> str | None:
    """The FTS5 MATCH expression for a user's query; None when it has nothing to search for.
    Kept for recent queries (a pure function of the string): a site search page compiles the
    same query once per shown table, a table page twice."""
    parts = [phrase_expression(p) for p in match_phrases(query)]
    return " AND ".join(parts) if parts else None


def phrase_found(phrase: Phrase, tokens: list[str]) -> bool:
    """Whether the phrase occurs in a cell's tokens (`index_tokens(...).split()`), as FTS5
    finds a phrase: its tokens at consecutive positions, the last one a prefix if marked."""
    n = len(phrase)
    first, _ = phrase[0]
    last, prefix = phrase[-1]
    for i in range(len(tokens) - n + 1):
        if n > 1 and tokens[i] != first:
            continue
        if all(tokens[i + j] == phrase[j][0] for j in range(1, n - 1)) and (
            tokens[i + n - 1].startswith(last) if prefix else tokens[i + n - 1] == last
        ):
            return True
    return False


def query_segments(query: str | None) -> list[tuple[str, str, bool]]:
    """[(class, normalised text, is_prefix)] of every run in the query, for highlighting."""
    out = []
    for term in parse(query):
        parts = runs(normalize(term.text))
        for i, (kind, seg) in enumerate(parts):
            out.append((kind, seg, kind == WORD and i == len(parts) - 1 and not term.quoted))
    return out
