"""Filling a search index: read a table's cells, tokenise them, insert the documents into FTS5.

FTS5's own work (its hash, the ascii tokenizer, a docsize row: ~19k instructions a row of the
bench table, half of all the index costs) cannot leave the connection that writes the index,
so the rest is kept off it or made cheaper:

- **Reading.** A batch of `BATCH_ROWS` rows is read as one string per column, its cells joined
  by NUL in C by `group_concat`, and its rowids as one string: no Python object per row or
  cell (1.3k instructions a row instead of 3.8k through a cursor). A batch with a cell that is
  not text (Python and SQLite write numbers differently) or that holds NUL itself is read
  again row by row (`_documents`), as any `rows_sql` is.
- **Tokenising** (`batch.index_text`, numpy, one table look-up per character) runs on a worker
  thread while this thread inserts the previous batch.
- **Inserting**: `executemany` of one plain `INSERT … VALUES` per row. One `INSERT … SELECT
  FROM json_each(?)` per batch would hold the GIL once instead of once per row, but FTS5
  flushes its pending data at every statement savepoint: a segment per statement, and
  merging them in the final 'optimize' cost more (9k instructions a row) than the binding
  saved. Measured with callgrind (instruction counts do not depend on the machine's load).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from typing import cast

import numpy as np

from ..sql import identifier as quote
from .batch import index_documents, index_text

BATCH_ROWS = 8192  # rows read and tokenised at once: large enough for numpy, small in memory

# ("text", (rowids joined by commas, [each column's cells joined by NUL])) or ("rows", [(rowid, cell, …)])
Part = tuple[str, object]


def fill(conn, index: str, table: str, columns: Sequence[str]) -> None:
    """Index every row of `table` (its `columns`) into the FTS5 table `index`."""
    _run(conn, _table_parts(conn, table, columns), _insert(index, len(columns)))


def fill_rows(conn, index: str, columns: int, cursor, batch_rows: int = BATCH_ROWS) -> None:
    """Index the (rowid, cell, …) rows a cursor yields into the FTS5 table `index`, `batch_rows`
    at a time (fewer for long documents: two batches are in memory at once)."""

    def parts() -> Iterator[Part]:
        while rows := list(islice(cursor, batch_rows)):
            yield "rows", rows

    _run(conn, parts(), _insert(index, columns))


def _insert(index: str, columns: int) -> str:
    fts = ", ".join(f"c{i}" for i in range(columns))
    return f"INSERT INTO {quote(index)} (rowid, {fts}) VALUES ({', '.join('?' * (columns + 1))})"


def _run(conn, parts: Iterator[Part], insert: str) -> None:
    """Each batch is tokenised on the worker while the previous one is inserted here (at most
    two batches in memory)."""
    with ThreadPoolExecutor(1, thread_name_prefix="gongkai-tokenize") as worker:
        pending = None
        for part in parts:
            upcoming = worker.submit(_rows, part)
            if pending is not None:
                conn.executemany(insert, pending.result())
            pending = upcoming
        if pending is not None:
            conn.executemany(insert, pending.result())


def _table_parts(conn, table: str, columns: Sequence[str]) -> Iterator[Part]:
    """The table's rows in rowid order, a batch at a time.

    All concatenations of a batch run in one pass of the aggregate, so the n-th rowid and the
    n-th cell of each column belong to one row whatever order SQLite feeds the rows in."""
    cols = [quote(c) for c in columns]
    concat = ", ".join(f"group_concat(coalesce({c}, ''), char(0))" for c in cols)
    other = " or ".join(f"typeof({c}) not in ('text', 'null')" for c in cols)
    source = f"select rowid, {', '.join(cols)} from {quote(table)} {{}} order by rowid limit {BATCH_ROWS}"
    batch = f"select count(*), max(rowid), max({other}), group_concat(rowid, ','), {concat} from ({{}})"
    where, args = "", cast(tuple, ())
    while True:
        count, last, not_text, rowids, *texts = conn.execute(batch.format(source.format(where)), args).fetchone()
        if not count:
            return
        if not_text or any(t.count("\0") != count - 1 for t in texts):
            yield "rows", list(conn.execute(source.format(where), args))
        else:
            yield "text", (rowids, texts)
        where, args = "where rowid > ?", (last,)


def _rows(part: Part) -> Iterable[tuple]:
    """(rowid, document, …) for a batch: the worker's share."""
    kind, payload = part
    if kind == "rows":
        return _documents(cast(list, payload))
    rowids, texts = cast(tuple[str, list[str]], payload)
    numbers = np.fromstring(rowids, dtype=np.int64, sep=",")
    first = int(numbers[0])
    # consecutive rowids (a table loaded in key order): no Python int per row
    ids: Iterable[int] = range(first, first + len(numbers)) if (np.diff(numbers) == 1).all() else numbers.tolist()
    return zip(ids, *(index_text(t).split("\0") for t in texts))


def _documents(rows: list) -> list[tuple]:
    """(rowid, document, …) for a batch of (rowid, cell, …) rows."""
    columns = [index_documents([r[i] for r in rows]) for i in range(1, len(rows[0]))]
    return list(zip((r[0] for r in rows), *columns))
