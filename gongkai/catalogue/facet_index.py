"""The catalogue list's filter, facet and order columns in memory, as numpy arrays (#10).

`/datasets` filters on seven facets, counts every facet's values over the matching datasets
(exactly) and orders the matches four ways. Done in SQL per state, a filter combination a
worker had not seen cost time in proportion to the catalogue (a cold state at 10,000 datasets:
20-110 ms), and the bench's filtered URLs are mostly states never seen before. Here each
dataset is a position 0..N-1 and each facet a column of small integer codes (one code per
value; several for a dataset's formats and keywords, kept as (position, code) pairs), read
from `catalog.db` once per worker and release (`load`, ~2 KB per 100 datasets; the release
never changes). A state is then a boolean mask (the AND of its filters' masks and the text
search's matches), each facet's counts one `bincount` over the mask without that facet's own
filter, and the page a slice of a precomputed order filtered by the mask: a few vectorised
passes over arrays of N bytes, microseconds at 10,000 datasets, whatever the state.

The orders and counts follow the SQL they replace exactly (`tests/test_catalogue_facets.py`
compares random states with plain SQL counts over catalog.db).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

import numpy as np

# Single-valued filters: the `datasets` column each reads.
SINGLE = {
    "theme": "theme",
    "publisher": "publisher",
    "licence": "license",
    "frequency": "frequency",
    "openness": "openness",
}
# Registry-backed filters: their labels' table and column.
LABELS = {"theme": ("themes", "name"), "publisher": ("publishers", "name"), "licence": ("licenses", "title")}
FACETS = (*SINGLE, "format", "keyword")
LANGS = ("zh", "en")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class Codes:
    """A facet's values, each with a small integer code (its position in `values`)."""

    def __init__(self) -> None:
        self.values: list = []
        self.index: dict = {}

    def code(self, value) -> int:
        found = self.index.get(value)
        if found is None:
            found = self.index[value] = len(self.values)
            self.values.append(value)
        return found


@dataclass
class Pairs:
    """A many-valued facet: distinct (dataset position, value code) pairs."""

    rows: np.ndarray
    codes: np.ndarray
    values: Codes

    @classmethod
    def of(cls, pairs: set[tuple[int, str]], values: Codes | None = None) -> Pairs:
        values = values or Codes()
        ordered = sorted(pairs)
        rows = np.fromiter((p for p, _ in ordered), dtype=np.int32, count=len(ordered))
        codes = np.fromiter((values.code(v) for _, v in ordered), dtype=np.int32, count=len(ordered))
        return cls(rows, codes, values)

    def mask(self, n: int, value) -> np.ndarray:
        out = np.zeros(n, dtype=bool)
        code = self.values.index.get(value)
        if code is not None:
            out[self.rows[self.codes == code]] = True
        return out

    def counts(self, where: np.ndarray | None) -> np.ndarray:
        codes = self.codes if where is None else self.codes[where[self.rows]]
        return np.bincount(codes, minlength=len(self.values.values))


def _json_list(text) -> list:
    try:
        found = json.loads(text) if text else []
    except (TypeError, ValueError):
        return []
    return [v for v in found if isinstance(v, str)] if isinstance(found, list) else []


def _title_key(title) -> tuple:
    # SQLite's `collate nocase` folds ASCII letters only and sorts NULL first.
    return (0, "") if title is None else (1, title.translate(_ASCII_LOWER))


def _desc_key(value) -> tuple:
    # In `order by x desc` SQLite puts NULL last.
    return (0, 0) if value is None else (1, value)


class FacetIndex:
    """Every dataset's facet codes and the list's orders (see the module docstring)."""

    def __init__(self, conn: sqlite3.Connection):
        rows = conn.execute(
            "select rowid, name, theme, publisher, license, frequency, openness, language, keywords, "
            "keywords_translated, title, title_en, title_zh, modified, bytes, rows from datasets order by rowid"
        ).fetchall()
        self.n = n = len(rows)
        self.rowids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=n)
        self.position = {int(r): i for i, r in enumerate(self.rowids)}
        self.names = [r[1] for r in rows]
        self.single: dict[str, tuple[np.ndarray, Codes]] = {}
        for offset, key in enumerate(SINGLE, start=2):
            values = Codes()
            codes = np.fromiter((values.code(r[offset]) for r in rows), dtype=np.int32, count=n)
            self.single[key] = (codes, values)
        formats = {
            (self.position[rowid], fmt)
            for rowid, fmt in conn.execute(
                "select d.rowid, lower(r.format) from datasets d join resources r on r.dataset = d.name "
                "where r.format is not null"
            )
        }
        self.formats = Pairs.of(formats)
        # A keyword filter matches the original keywords or their translation; the facet lists
        # the keywords in the page's language where the dataset has a translation.
        matched: set[tuple[int, str]] = set()
        shown: dict[str, set[tuple[int, str]]] = {lang: set() for lang in LANGS}
        for i, r in enumerate(rows):
            original, translated = _json_list(r[8]), _json_list(r[9])
            matched.update((i, k) for k in original + translated)
            has_translation = r[9] is not None and r[9] != "[]"
            for lang in LANGS:
                words = original if r[7] == lang or not has_translation else translated
                shown[lang].update((i, k) for k in words)
        self.keywords = Pairs.of(matched)
        self.keywords_shown = {lang: Pairs.of(pairs) for lang, pairs in shown.items()}
        self._ranks: dict[tuple[str, str], tuple[Codes, np.ndarray, np.ndarray]] = {}  # see _facet
        self.labels: dict[str, dict] = {}
        for key, (table, column) in LABELS.items():
            self.labels[key] = {
                ident: (zh, en) for ident, zh, en in conn.execute(f"select id, {column}, {column}_en from {table}")
            }
        by_name = sorted(range(n), key=lambda i: self.names[i])
        title = {"zh": 12, "en": 11}

        def order(key, reverse: bool = False) -> np.ndarray:
            # Sorted by name first, then (stably) by the key: ties stay in name order.
            return np.array(sorted(by_name, key=key, reverse=reverse), dtype=np.int32)

        modified = order(lambda i: _desc_key(rows[i][13]), reverse=True)
        size = order(lambda i: (_desc_key(rows[i][14]), _desc_key(rows[i][15])), reverse=True)
        self.orders: dict[tuple[str, str], np.ndarray] = {}
        for lang in LANGS:
            self.orders[("modified", lang)] = modified
            self.orders[("size", lang)] = size
            col = title[lang]
            self.orders[("title", lang)] = order(lambda i, c=col: _title_key(rows[i][c] or rows[i][10]))

    # -- states ---------------------------------------------------------------------------------

    def mask(self, key: str, value: str) -> np.ndarray:
        """The datasets one filter selects."""
        if key in SINGLE:
            codes, values = self.single[key]
            code = values.index.get(value)
            return codes == code if code is not None else np.zeros(self.n, dtype=bool)
        if key == "format":
            return self.formats.mask(self.n, value.translate(_ASCII_LOWER))  # SQLite lower(): ASCII
        if key == "keyword":
            return self.keywords.mask(self.n, value)
        raise KeyError(key)

    def hits(self, rowids: list[int]) -> np.ndarray:
        """Dataset rowids (a search's, best first) as positions, in the same order."""
        found = [self.position.get(r) for r in rowids]
        return np.array([p for p in found if p is not None], dtype=np.int32)

    def _facet(self, key: str, lang: str) -> tuple[Codes, np.ndarray, np.ndarray]:
        """A facet's values, each code's place in value order and which codes are values (not
        None): made once per facet (and language, for keywords), as a release never changes."""
        if key in SINGLE:
            values = self.single[key][1]
        else:
            values = (self.formats if key == "format" else self.keywords_shown[lang]).values
        found = self._ranks.get((key, lang if key == "keyword" else ""))
        if found is None:
            real = [c for c, v in enumerate(values.values) if v is not None]
            real.sort(key=values.values.__getitem__)
            rank = np.zeros(len(values.values), dtype=np.int64)
            rank[real] = np.arange(len(real))
            is_value = np.zeros(len(values.values), dtype=bool)
            is_value[real] = True
            found = self._ranks[(key, lang if key == "keyword" else "")] = (values, rank, is_value)
        return found

    def counts(
        self, key: str, where: np.ndarray | None, lang: str, limit: int | None = None, chosen: str | None = None
    ) -> tuple[list[tuple[str, int]], int, int]:
        """A facet's values with the number of selected datasets each has (none left out but
        those of no dataset), largest first, then by value: the first `limit` of them (all
        when None), how many there are, and how many datasets `chosen` has. Only the values
        listed become Python objects: 500 publishers' counts at 10,000 datasets were sorted
        and labelled on every request to show 20 (half a catalogue state's time)."""
        values, rank, is_value = self._facet(key, lang)
        if key in SINGLE:
            codes = self.single[key][0]
            counted = np.bincount(codes if where is None else codes[where], minlength=len(values.values))
        else:
            counted = (self.formats if key == "format" else self.keywords_shown[lang]).counts(where)
        present = np.flatnonzero((counted > 0) & is_value)
        order = present[np.lexsort((rank[present], -counted[present]))]
        if limit is not None:
            order = order[:limit]
        names = values.values
        code = values.index.get(chosen) if chosen is not None else None
        return [(names[c], int(counted[c])) for c in order], len(present), int(counted[code]) if code is not None else 0

    def state(
        self,
        filters: tuple[tuple[str, str], ...],
        hits: np.ndarray | None,
        sort: str,
        lang: str,
        limit: int | None = None,
    ) -> tuple[np.ndarray, dict[str, tuple[list[tuple[str, int]], int, int]]]:
        """A catalogue state's matching rowids in order (`sort` "relevance": the search's
        order) and every facet's counts (`counts`: its first `limit` values, how many there
        are, the count of its filter's value), each counted with every *other* active filter
        and the search applied (like data.gov.uk's facets)."""
        masks = [(key, self.mask(key, value)) for key, value in filters]
        if hits is not None:
            found = np.zeros(self.n, dtype=bool)
            found[hits] = True
            masks.append(("", found))  # the search: applied to every facet

        def where(skip: str | None = None) -> np.ndarray | None:
            chosen = [m for k, m in masks if k != skip]
            return np.logical_and.reduce(chosen) if chosen else None

        if sort == "relevance" and hits is not None:
            ordered = hits
        else:
            ordered = self.orders[(sort if sort in ("title", "size") else "modified", lang)]
        selected = where()
        if selected is not None:
            ordered = ordered[selected[ordered]]
        chosen = dict(filters)
        counts = {key: self.counts(key, where(skip=key), lang, limit, chosen.get(key)) for key in FACETS}
        return self.rowids[ordered], counts

    def newest(self, key: str, value: str) -> np.ndarray:
        """The rowids of the datasets one filter selects, last modified first (then by name):
        a publisher's or theme's page, in place of a sort of its datasets per request."""
        ordered = self.orders[("modified", LANGS[0])]
        return self.rowids[ordered[self.mask(key, value)[ordered]]]

    def label(self, key: str, value: str) -> tuple[str | None, str | None]:
        return self.labels.get(key, {}).get(value, (None, None))


def load(conn: sqlite3.Connection) -> FacetIndex:
    return FacetIndex(conn)
