"""The build's way of filling a search index (`search.fill`: cells concatenated by SQLite,
tokenised in numpy batches on a worker thread) gives the same
index as inserting `index_tokens(cell)` row by row, the definition of a cell's document.

Compared are FTS5's own records of the index: every token instance (fts5vocab 'instance':
token, row, column, position), every row's column sizes (what bm25 reads) and the token
document counts, for tables that take every path: consecutive rowids, rowids with gaps,
one and several columns, cells that are not text or hold the separator.
"""

from __future__ import annotations

import random
import sqlite3

import apsw
import pytest

from gongkai.search import fill as fill_module
from gongkai.search.index import FTS_OPTIONS, create_index
from gongkai.search.tokens import index_tokens

ALPHABET = (
    "維修保養街道市政府采购北京市教育局abcABCß①㈱２０２３，。、 \t\n_-'\"\\/é\u0301〇ー・\U00020000ｶﾞ"
    "\u2028\u2029\x7f\x1f\x02\ufeff😀"
)


def cell(rnd: random.Random):
    r = rnd.random()
    if r < 0.04:
        return None
    if r < 0.06:
        return rnd.randint(-5, 100_000)  # a number in a searchable column
    if r < 0.07:
        return 3.5
    if r < 0.08:
        return "维修\0保养"  # the row separator inside a cell
    if r < 0.09:
        return "维修\1保养"  # the cell separator inside a cell
    if r < 0.10:
        return ""
    if r < 0.40:  # repeated values, as government tables have them
        return rnd.choice(["北京市朝阳区", "上海市浦东新区", "Open Data 2023"])
    return "".join(rnd.choice(ALPHABET) for _ in range(rnd.randint(0, 30)))


def reference(conn, rows: list[tuple], columns: int) -> None:
    """`_ref`: each row's `index_tokens` of each cell, inserted one row at a time."""
    fts = ", ".join(f"c{i}" for i in range(columns))
    conn.execute(f"create virtual table _ref using fts5({fts}, {FTS_OPTIONS})")
    conn.executemany(
        f"insert into _ref (rowid, {fts}) values ({', '.join('?' * (columns + 1))})",
        [(r[0], *(index_tokens("" if not c else str(c)) for c in r[1:])) for r in rows],
    )


def records(conn, index: str) -> tuple:
    conn.execute(f"create virtual table temp.v_{index} using fts5vocab(main, '{index}', 'instance')")
    conn.execute(f"create virtual table temp.r_{index} using fts5vocab(main, '{index}', 'row')")
    instances = list(conn.execute(f"select term, doc, col, offset from temp.v_{index} order by term, doc, col, offset"))
    counts = list(conn.execute(f"select term, doc from temp.r_{index} order by term"))
    sizes = list(conn.execute(f"select id, sz from {index}_docsize order by id"))
    return instances, counts, sizes


@pytest.fixture(params=["sqlite3", "apsw"])
def connect(request):
    def open_():
        if request.param == "sqlite3":
            return sqlite3.connect(":memory:", isolation_level=None)
        return apsw.Connection(":memory:")

    return open_


@pytest.mark.parametrize("columns", [1, 3])
@pytest.mark.parametrize("gaps", [False, True])
def test_the_index_equals_row_by_row_insertion(connect, monkeypatch, columns, gaps):
    monkeypatch.setattr(fill_module, "BATCH_ROWS", 64)  # a few thousand rows cross many batches
    rnd = random.Random(columns * 10 + gaps)
    conn = connect()
    names = [f"col{i}" for i in range(columns)]
    conn.execute(f"create table t (id integer primary key, {', '.join(names)})")
    ids = sorted(rnd.sample(range(-5_000, 50_000), 3_000)) if gaps else list(range(1, 3_001))
    rows = [(i, *(cell(rnd) for _ in names)) for i in ids]
    if not gaps:  # one batch wholly of plain text, so the concatenated path surely runs there too
        rows[:64] = [(r[0], *("北京市 Open Data" for _ in names)) for r in rows[:64]]
    conn.executemany(f"insert into t values ({', '.join('?' * (columns + 1))})", rows)
    tindex = create_index(conn, "t", names)
    reference(conn, rows, columns)
    assert tindex.terms == "_search_t_terms"
    got, want = records(conn, "_search_t"), records(conn, "_ref")
    assert got == want
    assert list(conn.execute("select term, docs from _search_t_terms order by term")) == want[1]
    assert conn.execute("select count(*) from sqlite_temp_master where name like '_gongkai%'").fetchone()[0] == 0


def test_a_rebuilt_index_is_the_same(connect):
    conn = connect()
    conn.execute("create table t (name text)")
    conn.executemany("insert into t values (?)", [(f"北京市第{i}号 road {i % 7}",) for i in range(500)])
    create_index(conn, "t", ["name"])
    first = records(conn, "_search_t")
    conn.execute("drop table temp.v__search_t")
    conn.execute("drop table temp.r__search_t")
    create_index(conn, "t", ["name"])
    assert records(conn, "_search_t") == first


def test_plain_text_is_read_concatenated_and_the_rest_row_by_row(monkeypatch):
    monkeypatch.setattr(fill_module, "BATCH_ROWS", 10)
    conn = apsw.Connection(":memory:")
    conn.execute("create table t (name)")  # no affinity: 2023 stays a number
    cells = ["维修保养"] * 10 + ["维修\0保养"] + ["x"] * 9 + [2023] + ["道路"] * 9 + ["养护"] * 10
    conn.executemany("insert into t values (?)", [(c,) for c in cells])
    parts = list(fill_module._table_parts(conn, "t", ["name"]))
    assert [kind for kind, _ in parts] == ["text", "rows", "rows", "text"]
    assert parts[0][1] == (",".join(map(str, range(1, 11))), ["\0".join(["维修保养"] * 10)])
