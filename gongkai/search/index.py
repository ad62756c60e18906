"""Build-time search indexes: one per resource table, one for the catalogue.

For a table `t` the build writes, in the dataset's database:

- `_search_t`: a contentless FTS5 table (no copy of the text: only the index), one column per
  searchable column (`c0`, `c1`, …), rowid = the table's rowid, holding `tokens.index_tokens`
  of each cell (written in batches by `fill.py` through `batch.index_text`, token for token
  the same).
  Contentless, so Datasette's FTS detection (which looks for `content="t"` or an FTS table
  named after `t`) never picks it up and never passes raw user input to MATCH; Datasette
  hides it and every table whose name starts with it.
- `_search_t_columns`: which source column each FTS column indexes (hidden the same way), so
  the database describes its own index and the site needs nothing else to use it.
- `_search_t_terms`: every token and the number of rows holding it (from FTS5's own
  `fts5vocab`), so a query can start from the rarest token of each phrase
  (`gongkai.search.query.few_matches`).

In `catalog.db`, `_search_datasets` indexes every dataset's title, keywords, publisher,
column titles and descriptions in both languages (`gongkai.catalogue.writer` fills it with
`create_index`; `CATALOG_COLUMNS` are its columns).
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from ..sql import identifier
from .fill import BATCH_ROWS, fill, fill_rows

INDEX_PREFIX = "_search_"
COLUMNS_SUFFIX = "_columns"
TERMS_SUFFIX = "_terms"
CATALOG_INDEX = "_search_datasets"
# `ascii`: splits only on ASCII separators; our tokens are already cut, whatever their script.
# `prefix='4'`: four-character word prefixes, above all years (`2023*` finds 2023 and 20231231),
# read one prefix doclist (CJK tokens are at most two characters long, so only words get
# entries). There is no one-character prefix index any more: it held an entry for every CJK
# position again, doubling what FTS5 writes (insert + optimize of the bench table: 2.1 s of CPU
# instead of 1.1 s); a one-character query (`市*`) now merges the doclists of the bigrams
# starting with that character, as FTS5 does for any prefix without its own index.
FTS_OPTIONS = "tokenize='ascii', prefix='4', content='', detail=full"
MIN_AVERAGE_LENGTH = 4

_HINTS = re.compile(
    r"名称|名字|姓名|标题|题目|题名|内容|描述|说明|简介|摘要|概述|地址|住址|关键词|关键字|主题|事由|备注|用途|"
    r"\b(name|names|title|titles|description|desc|summary|abstract|address|addr|content|contents|keywords?|"
    r"subject|topic|text|label|notes?|remarks?|comments?)\b"
    r"|(name|title|description|address|keywords?)$|^(name|title|description|address)",
    re.IGNORECASE,
)

# Names of identifier-like columns: left out by default even when their values are long.
_CODES = re.compile(
    r"代码|编码|编号|代号|网址|链接|邮箱|电话|\b(id|ids|code|codes|url|uri|link|href|email|phone|wikidata|twitter|"
    r"prefix|hostname|host|domain|slug|uuid|hash|key|dataset|curie)\b",
    re.IGNORECASE,
)


def index_name(table: str) -> str:
    return INDEX_PREFIX + table


quote = identifier  # the name the search modules use


@dataclass(frozen=True)
class TableIndex:
    """What the site needs to search one table."""

    table: str
    index: str
    columns: tuple[str, ...]  # source columns, in FTS column order (c0, c1, …)
    terms: str | None = None  # the table of token document counts, where there is one


# ---------------------------------------------------------------------------------------------
# Which columns


def decide(field: dict, keys: set[str]) -> bool | None:
    """True/False when the schema alone decides; None when the data decides (average length)."""
    if field.get("gov:searchable") is not None:
        return bool(field["gov:searchable"])
    if field.get("type", "string") != "string" or field["name"] in keys:
        return False
    constraints = field.get("constraints") or {}
    if "pattern" in constraints or field.get("format") in ("email", "uri", "binary", "uuid"):
        return False  # codes, identifiers and addresses of machines, not text people search
    en = ((field.get("gov:translations") or {}).get("en") or {}).get("title") or ""
    words = " ".join(str(x) for x in (field["name"], field.get("title") or "", en))
    spaced = words.replace("_", " ").replace("-", " ")
    if _HINTS.search(spaced) or _HINTS.search(words):
        return True
    if _CODES.search(spaced):
        return False
    return None


def searchable_columns(conn: sqlite3.Connection, resource) -> list[str]:
    """The columns of the resource's table to index, in schema order."""
    keys = set(resource.primary_key)
    for fk in resource.foreign_keys:
        keys.update(fk["fields"])
    chosen = []
    for field in resource.fields:
        verdict = decide(field, keys)
        if verdict is None:
            col = quote(field["name"])
            (avg,) = conn.execute(
                f"select avg(length({col})) from {quote(resource.name)} where {col} is not null"
            ).fetchone()
            verdict = avg is not None and avg >= MIN_AVERAGE_LENGTH
        if verdict:
            chosen.append(field["name"])
    return chosen


# ---------------------------------------------------------------------------------------------
# Writing indexes


# FTS5 keeps this much pending index in memory before writing a segment (default 1 MiB), and
# merges nothing until the single 'optimize' at the end (`automerge` 0): writing a 500k-row
# index then costs half the CPU time of the defaults, which write ~60 segments and merge them
# over and over. Memory stays bounded by the hash size, whatever the number of rows.
HASH_BYTES = 64 << 20
# The catalogue's documents are long (every column's titles and descriptions, in both languages):
# 8,192 of them per batch held 65 MB at 10,000 datasets, a third of the build's peak memory;
# 512 hold 17 MB and index as fast (measured on a 10,000-dataset catalog.db).
CATALOG_BATCH_ROWS = 512


def create_index(
    conn, table: str, columns: list[str], rows_sql: str | None = None, batch_rows: int = BATCH_ROWS
) -> TableIndex:
    """Create and fill the search index of `table` over `columns` (one transaction).

    `conn` is a sqlite3 or an APSW connection (the build passes its APSW one: a current SQLite
    and faster binding). `rows_sql` selects (rowid, col, …) to index, `batch_rows` at a time;
    by default the table's own rows. `fill.py` reads, tokenises (on a second thread) and
    inserts them.
    """
    name = index_name(table)
    fts_columns = [f"c{i}" for i in range(len(columns))]
    in_tx = conn.in_transaction
    if not in_tx:
        conn.execute("BEGIN")
    try:
        conn.execute(f"DROP TABLE IF EXISTS {quote(name)}")
        conn.execute(f"DROP TABLE IF EXISTS {quote(name + COLUMNS_SUFFIX)}")
        conn.execute(f"CREATE VIRTUAL TABLE {quote(name)} USING fts5({', '.join(fts_columns)}, {FTS_OPTIONS})")
        conn.execute(
            f"INSERT INTO {quote(name)} ({quote(name)}, rank) VALUES ('automerge', 0), ('hashsize', {HASH_BYTES})"
        )
        if rows_sql is None:
            fill(conn, name, table, columns)
        else:
            fill_rows(conn, name, len(columns), conn.execute(rows_sql), batch_rows)
        # One b-tree per index instead of many segments: fewer pages read per query.
        conn.execute(f"INSERT INTO {quote(name)} ({quote(name)}) VALUES ('optimize')")
        conn.execute(
            f"CREATE TABLE {quote(name + COLUMNS_SUFFIX)} (position INTEGER PRIMARY KEY, fts_column TEXT, column TEXT)"
        )
        conn.executemany(
            f"INSERT INTO {quote(name + COLUMNS_SUFFIX)} VALUES (?, ?, ?)",
            [(i, f, c) for i, (f, c) in enumerate(zip(fts_columns, columns))],
        )
        terms = _write_terms(conn, name) if rows_sql is None else None
    except BaseException:
        if not in_tx:
            conn.execute("ROLLBACK")
        raise
    if not in_tx:
        conn.execute("COMMIT")
    return TableIndex(table, name, tuple(columns), terms)


def _write_terms(conn: sqlite3.Connection, name: str) -> str | None:
    """`<index>_terms`: each token with the number of rows holding it (0.4 s for 500k rows).
    None when the name is taken (a table of the dataset may be called so): queries then go
    to the index directly, as fast as before there was a terms table."""
    terms = name + TERMS_SUFFIX
    row = conn.execute("select sql from sqlite_master where name = ?", [terms]).fetchone()
    if row and row[0] == _terms_sql(terms):  # an earlier build's: rebuilt below
        conn.execute(f"DROP TABLE {quote(terms)}")
    elif row:
        return None
    vocab = quote("_gongkai_vocab")
    conn.execute(f"CREATE VIRTUAL TABLE temp.{vocab} USING fts5vocab(main, {_literal(name)}, 'row')")
    try:
        conn.execute(_terms_sql(terms))
        conn.execute(f"INSERT INTO {quote(terms)} SELECT term, doc FROM temp.{vocab}")
    finally:
        conn.execute(f"DROP TABLE temp.{vocab}")
    return terms


def _terms_sql(terms: str) -> str:
    return f"CREATE TABLE {quote(terms)} (term TEXT PRIMARY KEY, docs INTEGER NOT NULL) WITHOUT ROWID"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def index_resource(db, resource) -> list[str]:
    """Index the searchable columns of a freshly loaded resource table; returns their names.

    `db` is the build's `load.BuildDatabase` (its APSW connection writes the index), a
    sqlite_utils Database or a sqlite3 connection. Called after the insert, before ANALYZE.
    """
    conn = getattr(db, "rows", None) or getattr(db, "conn", db)
    columns = searchable_columns(conn, resource)
    if columns:
        create_index(conn, resource.name, columns)
    return columns


# ---------------------------------------------------------------------------------------------
# Reading what was built


def read_indexes(conn: sqlite3.Connection) -> dict[str, TableIndex]:
    """{table: TableIndex} for every search index in a database."""
    out = {}
    names = [
        r[0]
        for r in conn.execute(
            "select name from sqlite_master where type = 'table' and name like '\\_search\\_%\\_columns' escape '\\'"
        )
    ]
    for name in names:
        index = name[: -len(COLUMNS_SUFFIX)]
        table = index[len(INDEX_PREFIX) :]
        if not conn.execute("select 1 from sqlite_master where name = ?", [index]).fetchone():
            continue
        cols = [r[0] for r in conn.execute(f"select column from {quote(name)} order by position")]
        terms = index + TERMS_SUFFIX
        has_terms = conn.execute(
            "select 1 from sqlite_master where name = ? and sql = ?", [terms, _terms_sql(terms)]
        ).fetchone()
        out[table] = TableIndex(table, index, tuple(cols), terms if has_terms else None)
    return out


def describe_indexes(indexes: dict[str, TableIndex]) -> dict:
    """`read_indexes`'s answer as JSON (a release's inspect.json keeps it per database, so a
    server knows a table's index without a query: gongkai/datasette_files.py)."""
    return {
        table: {"index": t.index, "columns": list(t.columns), "terms": t.terms} for table, t in sorted(indexes.items())
    }


def indexes_described(description: object) -> dict[str, TableIndex] | None:
    """`describe_indexes` read back; None when `description` is not one (an older release's
    entry, or a hand-made file): the caller then reads the database itself."""
    if not isinstance(description, dict):
        return None
    out = {}
    for table, d in description.items():
        if not (isinstance(d, dict) and isinstance(d.get("index"), str) and isinstance(d.get("columns"), list)):
            return None
        terms = d.get("terms")
        if not (terms is None or isinstance(terms, str)) or not all(isinstance(c, str) for c in d["columns"]):
            return None
        out[table] = TableIndex(table, d["index"], tuple(d["columns"]), terms)
    return out


# ---------------------------------------------------------------------------------------------
# The catalogue

# The FTS columns of the catalogue index and their bm25 weights: a title match outranks the same
# match in keywords, publisher, column titles or description.
CATALOG_COLUMNS = ("title", "keywords", "publisher", "columns", "description")
CATALOG_WEIGHTS = (10.0, 5.0, 3.0, 2.0, 1.0)
