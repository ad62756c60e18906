"""The site-wide search index: shards of every dataset's token counts, written by the build.

A site search used to run one ranked query per indexed table of every dataset: its cost grew with
the number of datasets (734 ms at 1,000, a 1.46 MB page). Here the build copies, for each table
of each dataset, its search index's token document counts (the `_search_<t>_terms` table that
`gongkai.search.index` writes, or FTS5's own vocabulary where there is none) into one of `SHARDS`
shard files, `search/<nn>.db` in the release, chosen by a stable hash of the dataset's name:

    tables(tid, dataset, tbl, idx, columns, terms, rows, hash)   one row per indexed table
    postings(term, tid, docs, score)                             rows of table `tid` holding `term`
    term_stats(term, datasets, docs)                             per token, over the shard
    top(term, rank, dataset, score, docs, tids)                  per common token, its best datasets

A query (`candidates`) reads from every shard only the postings of the query's own tokens
(`tokens.match_phrases`: the very tokens the per-dataset indexes hold), so its cost grows with
the number of tables holding those tokens, never with the text. That gives, per table:

- which tables can match: a table lacking an exact token of a phrase, or every term starting with
  a phrase's prefix token, cannot (so nothing a LIKE scan finds is ever left out);
- how many rows match: exact for a query of one token (the common case: 街道, an unquoted word
  that only one term of the table starts with); otherwise an upper bound (the smallest count of
  the phrase's tokens), marked `exact=False`, which the page replaces by the exact count from the
  dataset's own index for every dataset it shows (`verify`);
- a rank: BM25 over tables, each table one document whose term frequency is its matching rows
  and whose length is its row count, so a table where most rows match outranks one where a few do,
  and a big table is not favoured for being big.

A common token (held by `TOP_MIN` datasets of the shard or more: 街道 is in every one) has its
best `TOP_K` datasets ranked at build time in `top`, in the order a query ranks them, so a
one-token query of the first pages reads `top` rows by primary key: no join, grouping or sort
per query (shards never change once written, so the ranking never goes stale).

Incremental (the layout decision of #10): a shard whose datasets and their content hashes are the
previous release's is hard-linked from it; a shard with a changed, new or removed dataset is the
previous shard copied with only those datasets' rows replaced. Shards are immutable once written.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import os
import shutil
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from .. import release_files
from ..thread_pools import lazy_pool
from .index import TableIndex, quote, read_indexes
from .query import search_tables
from .tokens import Phrase, match_phrases

FOLDER = "search"
SHARDS = 16  # fixed, whatever N: a query reads each shard once; a changed dataset rewrites 1/16th
FORMAT = "3"  # the shard schema; a shard of another format is rebuilt, never patched
# BM25's usual constants, and the table length its length normalisation is against: fixed (a
# typical published table), not the site's average, so a table's score for a token depends on
# that table alone and is written once with its postings (a changed dataset changes no other
# dataset's scores, and a one-token query reads its best tables off an index)
K1, B, REF_ROWS = 1.2, 0.75, 200.0
# the highest code point: every token starting with a prefix sorts below prefix + this
_TOP = "\U0010ffff"
# `top` holds, per token held by at least TOP_MIN datasets of a shard, its best TOP_K datasets: a
# page asks each shard for start + VERIFY_MAX (40) of them, so the first seven pages read only
# `top`; rarer tokens, later pages and phrases are ranked from `postings` (then still cheap: a
# rare token has few postings, and a later page is a rarer request)
TOP_K, TOP_MIN = 100, 16

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE tables (
    tid INTEGER PRIMARY KEY, dataset TEXT NOT NULL, tbl TEXT NOT NULL, idx TEXT NOT NULL,
    columns TEXT NOT NULL, terms TEXT, rows INTEGER NOT NULL, hash TEXT NOT NULL
);
CREATE INDEX tables_dataset ON tables (dataset);
CREATE TABLE postings (term TEXT NOT NULL, tid INTEGER NOT NULL, docs INTEGER NOT NULL, score REAL NOT NULL,
    PRIMARY KEY (term, tid)) WITHOUT ROWID;
CREATE INDEX postings_rank ON postings (term, score DESC);
CREATE TABLE term_stats (term TEXT PRIMARY KEY, datasets INTEGER NOT NULL, docs INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE top (term TEXT NOT NULL, rank INTEGER NOT NULL, dataset TEXT NOT NULL, score REAL NOT NULL,
    docs INTEGER NOT NULL, tids TEXT NOT NULL, PRIMARY KEY (term, rank)) WITHOUT ROWID;
"""


def table_score(count: int, rows: int) -> float:
    """BM25's term-frequency part for a table: `count` of its `rows` rows match."""
    return count * (K1 + 1) / (count + K1 * (1 - B + B * rows / REF_ROWS))


def shard_of(dataset: str) -> int:
    """The shard of a dataset: stable across builds, machines and Python runs (not `hash()`)."""
    return int.from_bytes(hashlib.sha256(dataset.encode("utf-8")).digest()[:4], "big") % SHARDS


def shard_path(release: Path, shard: int) -> Path:
    return Path(release) / FOLDER / f"{shard:02d}.db"


@dataclass(frozen=True)
class Entry:
    """One valid dataset of the release, as the build knows it."""

    dataset: str
    hash: str  # the build's content hash: unchanged hash, unchanged postings
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows (from the build's stats)


# ---------------------------------------------------------------------------------------------
# Writing (the build)


def write(release: Path, previous: Path | None, entries: Iterable[Entry]) -> dict[str, int]:
    """Write every shard of `release` from its datasets' databases (already in the release).

    Returns how many shards were linked, patched and written afresh."""
    by_shard: dict[int, list[Entry]] = {s: [] for s in range(SHARDS)}
    for entry in entries:
        by_shard[shard_of(entry.dataset)].append(entry)
    (Path(release) / FOLDER).mkdir(exist_ok=True)
    done = {"linked": 0, "patched": 0, "written": 0}
    for shard, members in by_shard.items():
        target = shard_path(release, shard)
        old = shard_path(previous, shard) if previous is not None else None
        old_hashes = _hashes(old) if old is not None and old.is_file() else None
        want = {e.dataset: e.hash for e in members}
        if old is not None and old_hashes == want:
            os.link(old, target)
            done["linked"] += 1
            continue
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        if old is not None and old_hashes is not None:
            shutil.copyfile(old, tmp)
            stale = [d for d, h in old_hashes.items() if want.get(d) != h]
            todo = [e for e in members if old_hashes.get(e.dataset) != e.hash]
            done["patched"] += 1
        else:
            stale, todo = [], members
            done["written"] += 1
        conn = sqlite3.connect(tmp)
        try:
            if old_hashes is None:
                conn.executescript(_SCHEMA)
                conn.execute("INSERT INTO meta VALUES ('format', ?)", [FORMAT])
            with conn:
                conn.execute("CREATE TEMP TABLE touched (term TEXT PRIMARY KEY) WITHOUT ROWID")
                changed = _datasets_tids(conn, stale)
                conn.execute(  # the tokens whose counts change: those of the datasets removed…
                    "INSERT OR IGNORE INTO temp.touched SELECT term FROM postings "
                    "WHERE tid IN (SELECT value FROM json_each(?))",
                    [json.dumps(changed)],
                )
                _remove(conn, stale)
                first_new = conn.execute("SELECT coalesce(max(tid), 0) + 1 FROM tables").fetchone()[0]
                for entry in sorted(todo, key=lambda e: e.dataset):
                    _add(conn, release_files.database(Path(release), entry.dataset), entry)
                conn.execute(  # …and those of the datasets added
                    "INSERT OR IGNORE INTO temp.touched SELECT term FROM postings WHERE tid >= ?", [first_new]
                )
                # per token: how many datasets hold it and in how many rows (one-token queries)
                conn.execute("DELETE FROM term_stats WHERE term IN (SELECT term FROM temp.touched)")
                conn.execute(
                    "INSERT INTO term_stats SELECT p.term, count(DISTINCT t.dataset), sum(p.docs) "
                    "FROM postings p JOIN tables t USING (tid) WHERE p.term IN (SELECT term FROM temp.touched) "
                    "GROUP BY p.term"
                )
                _rank_common(conn, stale, first_new)
        finally:
            conn.close()
        os.replace(tmp, target)
    return done


def _rank_common(conn: sqlite3.Connection, stale: list[str], first_new: int) -> None:
    """`top` for the touched tokens: each common token's best `TOP_K` datasets, ordered as
    `_order` orders them (score, then matching rows, then name: a total order, so a shard's
    list merged with the others' gives the site's), with each dataset's tables and their
    counts as `tid:docs,…`.

    Only the tokens whose list can have moved are ranked again: those whose list holds a
    dataset removed or changed (`stale`), those with fewer than TOP_K datasets listed (any
    dataset added joins them), and those where an added dataset (tables from `first_new` on)
    ranks above the last one listed. For any other touched token the list is the same, and
    ranking it again from its postings (every dataset of the shard holding a common token)
    was most of a one-dataset rebuild at 10,000 datasets (0.9 of 1.4 s, cProfile). Most lists
    to redo are merged from their old entries and the added ones instead (see below): ranking
    them from the postings was still 1.0 of 5.0 s of that rebuild."""
    touched = "SELECT term FROM temp.touched"
    conn.execute(
        f"DELETE FROM top WHERE term IN ({touched}) AND term NOT IN (SELECT term FROM term_stats WHERE datasets >= ?)",
        [TOP_MIN],
    )
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS redo (term TEXT PRIMARY KEY) WITHOUT ROWID")
    conn.execute("DELETE FROM temp.redo")
    conn.execute(
        f"INSERT OR IGNORE INTO temp.redo SELECT DISTINCT term FROM top WHERE term IN ({touched}) "
        "AND dataset IN (SELECT value FROM json_each(?))",
        [json.dumps(stale, ensure_ascii=False)],
    )
    conn.execute(
        "INSERT OR IGNORE INTO temp.redo SELECT s.term FROM term_stats s JOIN temp.touched USING (term) "
        "WHERE s.datasets >= ? AND (SELECT count(*) FROM top WHERE top.term = s.term) < ?",
        [TOP_MIN, TOP_K],
    )
    # the added datasets' entries, per token (what a fresh ranking would compute for them)
    conn.execute("DROP TABLE IF EXISTS temp.added")
    conn.execute(
        "CREATE TEMP TABLE added AS SELECT p.term, t.dataset, max(p.score) AS score, sum(p.docs) AS docs, "
        "group_concat(p.tid || ':' || p.docs) AS tids FROM postings p JOIN tables t USING (tid) "
        "WHERE p.tid >= ? GROUP BY p.term, t.dataset",
        [first_new],
    )
    conn.execute("CREATE INDEX temp.added_term ON added (term)")
    conn.execute(
        f"""
        INSERT OR IGNORE INTO temp.redo
        SELECT DISTINCT n.term FROM temp.added n JOIN top k ON k.term = n.term AND k.rank = ?
        WHERE {_BEFORE.format(a="n", b="k")}
        """,
        [TOP_K - 1],
    )
    # A list to redo is merged from what it held (less the stale datasets) and the added entries
    # when that is exact: the old list held every dataset with the token (fewer than TOP_K), or
    # at least TOP_K of the merged entries rank at or before its old last one, behind which
    # every dataset it did not list ranks. Otherwise (a stale dataset dropped out of a full
    # list, a token just become common) it is ranked again from the postings.
    conn.execute("DROP TABLE IF EXISTS temp.merged")
    conn.execute(
        "CREATE TEMP TABLE merged AS "
        "SELECT term, dataset, score, docs, tids FROM top WHERE term IN (SELECT term FROM temp.redo) "
        "AND dataset NOT IN (SELECT value FROM json_each(?)) "
        "UNION ALL SELECT term, dataset, score, docs, tids FROM temp.added WHERE term IN (SELECT term FROM temp.redo)",
        [json.dumps(stale, ensure_ascii=False)],
    )
    conn.execute("CREATE INDEX temp.merged_term ON merged (term)")
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS mergeable (term TEXT PRIMARY KEY) WITHOUT ROWID")
    conn.execute("DELETE FROM temp.mergeable")
    conn.execute(
        f"""
        INSERT INTO temp.mergeable
        SELECT o.term FROM (
            SELECT term, count(*) AS n, max(rank) AS last FROM top WHERE term IN (SELECT term FROM temp.redo) GROUP BY term
        ) c JOIN top o ON o.term = c.term AND o.rank = c.last
        WHERE c.n < ? OR (
            SELECT count(*) FROM temp.merged m WHERE m.term = o.term AND (m.dataset = o.dataset AND m.score = o.score
                AND m.docs = o.docs OR {_BEFORE.format(a="m", b="o")})
        ) >= ?
        """,
        [TOP_K, TOP_K],
    )
    conn.execute("DELETE FROM top WHERE term IN (SELECT term FROM temp.redo)")
    conn.execute(
        """
        INSERT INTO top (term, rank, dataset, score, docs, tids)
        SELECT term, rank, dataset, score, docs, tids FROM (
            SELECT term, dataset, score, docs, tids,
                   row_number() OVER (PARTITION BY term ORDER BY score DESC, docs DESC, dataset) - 1 AS rank
            FROM temp.merged WHERE term IN (SELECT term FROM temp.mergeable)
        ) WHERE rank < ?
        """,
        [TOP_K],
    )
    conn.execute(
        """
        INSERT INTO top (term, rank, dataset, score, docs, tids)
        SELECT term, rank, dataset, score, docs, tids FROM (
            SELECT term, dataset, score, docs, tids,
                   row_number() OVER (PARTITION BY term ORDER BY score DESC, docs DESC, dataset) - 1 AS rank
            FROM (
                SELECT p.term, t.dataset, max(p.score) AS score, sum(p.docs) AS docs,
                       group_concat(p.tid || ':' || p.docs) AS tids
                FROM postings p JOIN tables t USING (tid)
                WHERE p.term IN (SELECT s.term FROM term_stats s JOIN temp.redo USING (term) WHERE s.datasets >= ?
                                 AND s.term NOT IN (SELECT term FROM temp.mergeable))
                GROUP BY p.term, t.dataset
            )
        ) WHERE rank < ?
        """,
        [TOP_MIN, TOP_K],
    )


# `a` ranks strictly before `b` in `_order`'s total order (score, then matching rows, then name)
_BEFORE = (
    "({a}.score > {b}.score OR ({a}.score = {b}.score AND ({a}.docs > {b}.docs "
    "OR ({a}.docs = {b}.docs AND {a}.dataset < {b}.dataset))))"
)


def _hashes(path: Path) -> dict[str, str] | None:
    """{dataset: hash} of a shard, or None when it is not a shard of this format."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error:
        return None
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        if not row or row[0] != FORMAT:
            return None
        return dict(conn.execute("SELECT DISTINCT dataset, hash FROM tables"))
    except sqlite3.Error:
        return None
    finally:
        conn.close()


def _datasets_tids(conn: sqlite3.Connection, datasets: list[str]) -> list[int]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT tid FROM tables WHERE dataset IN (SELECT value FROM json_each(?))",
            [json.dumps(datasets, ensure_ascii=False)],
        )
    ]


def _remove(conn: sqlite3.Connection, datasets: list[str]) -> None:
    if not datasets:
        return
    names = json.dumps(datasets, ensure_ascii=False)
    tids = "SELECT tid FROM tables WHERE dataset IN (SELECT value FROM json_each(?))"
    conn.execute(f"DELETE FROM postings WHERE tid IN ({tids})", [names])
    conn.execute("DELETE FROM tables WHERE dataset IN (SELECT value FROM json_each(?))", [names])


def _add(conn: sqlite3.Connection, db_path: Path, entry: Entry) -> None:
    """Copy one dataset's token counts, table by table, from its own search indexes."""
    if not db_path.is_file():
        return
    source = sqlite3.connect(f"file:{db_path}?mode=ro&immutable=1", uri=True)
    try:
        for table, tindex in sorted(read_indexes(source).items()):
            rows = entry.rows.get(table)
            if rows is None:
                rows = source.execute(f"SELECT count(*) FROM {quote(table)}").fetchone()[0]
            cur = conn.execute(
                "INSERT INTO tables (dataset, tbl, idx, columns, terms, rows, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    entry.dataset,
                    table,
                    tindex.index,
                    json.dumps(list(tindex.columns), ensure_ascii=False),
                    tindex.terms,
                    rows,
                    entry.hash,
                ],
            )
            tid = cur.lastrowid
            conn.executemany(
                "INSERT INTO postings (term, tid, docs, score) VALUES (?, ?, ?, ?)",
                ((term, tid, docs, table_score(docs, rows)) for term, docs in _term_counts(source, tindex)),
            )
    finally:
        source.close()


def _term_counts(source: sqlite3.Connection, tindex: TableIndex) -> list[tuple[str, int]]:
    """(token, rows holding it) of one table's index: its terms table, or FTS5's vocabulary
    (the same numbers: the terms table is a copy of it) where the build wrote none."""
    if tindex.terms is not None:
        return source.execute(f"SELECT term, docs FROM {quote(tindex.terms)}").fetchall()
    vocab = quote("_gongkai_site_vocab")
    literal = "'" + tindex.index.replace("'", "''") + "'"
    source.execute(f"CREATE VIRTUAL TABLE temp.{vocab} USING fts5vocab(main, {literal}, 'row')")
    try:
        return source.execute(f"SELECT term, doc FROM temp.{vocab}").fetchall()
    finally:
        source.execute(f"DROP TABLE temp.{vocab}")


# ---------------------------------------------------------------------------------------------
# Reading (the site search)


@dataclass(frozen=True)
class TableHit:
    """A table of a candidate dataset: what its own database needs to search it."""

    dataset: str
    tindex: TableIndex
    rows: int
    count: int | None = None  # this query's matching rows in the table, when known exactly


@dataclass(frozen=True)
class DatasetHit:
    """One dataset in the ranked list."""

    dataset: str
    score: float
    count: int  # matching rows: exact when `exact`, else an upper bound
    exact: bool
    tables: list[TableHit]


@dataclass(frozen=True)
class Ranked:
    datasets: list[DatasetHit]  # the best candidates, best first
    total: int  # matching rows over the whole site: exact when `exact`, else an upper bound
    exact: bool
    matched: int  # candidate datasets over the whole site (those that match, when `exact`)


def open_shards(release: Path) -> list[sqlite3.Connection]:
    """Read-only connections to a release's shards (none when the build wrote none)."""
    out = []
    for shard in range(SHARDS):
        path = shard_path(release, shard)
        if path.is_file():
            out.append(sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False))
    return out


_stats: dict[int, tuple[int, int]] = {}  # id(connection) -> (tables, rows): shards never change


def _shard_stats(conn: sqlite3.Connection) -> tuple[int, int]:
    """(tables, rows) of a shard."""
    found = _stats.get(id(conn))
    if found is None:
        found = _stats[id(conn)] = conn.execute("SELECT count(*), coalesce(sum(rows), 0) FROM tables").fetchone()
    return found


T = TypeVar("T")
THREADS = 2
OPEN_PER_THREAD = 4  # releases whose shards a thread keeps open (a server has one; tests many)
_local = threading.local()
_executor = lazy_pool("site-search", THREADS)


class Shards(list):
    """A release's open shards (a list of connections), and its datasets' databases, opened on
    demand from the process's `DatabasePool` for the release (never one per dataset)."""

    def __init__(self, release: Path, conns: list[sqlite3.Connection]):
        super().__init__(conns)
        self.release = release
        self.databases = database_pool(release)
        # (shard connection's id, tid) -> its table: read once (shards never change), bounded
        self.table_hits: dict[tuple[int, int], TableHit] = {}

    def close(self) -> None:
        for conn in self:
            _stats.pop(id(conn), None)
            conn.close()


DATABASES_KEPT = 128  # idle dataset connections a worker keeps for the site search (one file each)


class DatabasePool:
    """Idle read-only connections to one release's dataset databases, shared by the threads
    that search it: at most `DATABASES_KEPT` idle, the least recently used closed first, plus
    one per running search. Shared, not per thread: with a pool per thread, each kept its own
    copy of the same popular datasets, and the first pages of eight common words (80 datasets)
    no longer fitted in either, so every page opened its datasets afresh (a page of the bench's
    common words: 38 ms p50 in process at N = 10,000, 4.6 ms with its connections kept)."""

    def __init__(self, release: Path):
        self.release = release
        self._idle: OrderedDict[str, list[sqlite3.Connection]] = OrderedDict()
        self._count = 0
        self._lock = threading.Lock()
        self.closed = False
        # dataset -> {table: (primary keys, label shape)}: the schema the page reads of each
        # shown table, kept (a release's schemas never change), for as many datasets as connections
        self._shapes: OrderedDict[str, dict] = OrderedDict()

    def shapes(self, name: str) -> dict:
        with self._lock:
            found = self._shapes.get(name)
            if found is None:
                found = self._shapes[name] = {}
                while len(self._shapes) > DATABASES_KEPT:
                    self._shapes.popitem(last=False)
            self._shapes.move_to_end(name)
            return found

    @contextmanager
    def opened(self, name: str) -> Iterator[sqlite3.Connection]:
        conn = None
        with self._lock:
            idle = self._idle.get(name)
            if idle:
                conn = idle.pop()
                self._count -= 1
                if not idle:
                    del self._idle[name]
        if conn is None:
            path = release_files.database(self.release, name)
            conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        try:
            yield conn
        finally:
            self._give_back(name, conn)

    def _give_back(self, name: str, conn: sqlite3.Connection) -> None:
        surplus = []
        with self._lock:
            if self.closed:
                surplus.append(conn)
            else:
                self._idle.setdefault(name, []).append(conn)
                self._idle.move_to_end(name)
                self._count += 1
                while self._count > DATABASES_KEPT:
                    oldest, conns = next(iter(self._idle.items()))
                    surplus.append(conns.pop(0))
                    self._count -= 1
                    if not conns:
                        del self._idle[oldest]
        for old in surplus:
            old.close()

    def close(self) -> None:
        with self._lock:
            self.closed = True
            conns = [c for idle in self._idle.values() for c in idle]
            self._idle.clear()
            self._count = 0
        for conn in conns:
            conn.close()


OPEN_RELEASES = 4  # releases whose dataset pools a process keeps (a server has one; tests many)
_pools: OrderedDict[Path, DatabasePool] = OrderedDict()
_pools_lock = threading.Lock()


def database_pool(release: Path) -> DatabasePool:
    """The process's pool for `release`, made on first use."""
    with _pools_lock:
        pool = _pools.get(release)
        if pool is None:
            pool = _pools[release] = DatabasePool(release)
            while len(_pools) > OPEN_RELEASES:
                _pools.popitem(last=False)[1].close()
        _pools.move_to_end(release)
        return pool


class ShardStore:
    """A server's read-only connections to one release's shards, used off the event loop:
    `await store.read(fn)` runs `fn(shards)` on a small thread pool (one per process), each
    thread with its own connections (shards are immutable: `immutable=1`, no locking). A page
    of results is ranked and verified in one such call (`search_page`): one hop off the event
    loop per request, not one per dataset shown."""

    def __init__(self, release: Path):
        self.release = Path(release).resolve()

    def read_now(self, fn: Callable[[Shards], T]) -> T:
        conns: OrderedDict[Path, Shards] = getattr(_local, "conns", None) or OrderedDict()
        _local.conns = conns
        shards = conns.get(self.release)
        if shards is None:
            shards = conns[self.release] = Shards(self.release, open_shards(self.release))
            while len(conns) > OPEN_PER_THREAD:
                conns.popitem(last=False)[1].close()
        conns.move_to_end(self.release)
        return fn(shards)

    async def read(self, fn: Callable[[Shards], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(_executor(), self.read_now, fn)

    async def warm(self) -> None:
        """Open the shards in each search thread of the process and read their sizes (the
        first statement on a connection also reads its schema), so that a worker's first
        searches do not pay for it: a server calls this at worker start (plugins/search.py).
        Each of the `THREADS` calls waits for the others, so every thread takes one."""
        # on its own thread: the kernel may read much of it before the call returns
        threading.Thread(target=prefetch, args=(self.release,), name="gongkai-prefetch", daemon=True).start()
        loop = asyncio.get_running_loop()
        barrier = threading.Barrier(THREADS)

        def one() -> None:
            self.read_now(lambda shards: [_shard_stats(conn) for conn in shards])
            try:
                barrier.wait(timeout=WARM_WAIT_S)
            except threading.BrokenBarrierError:  # a thread busy elsewhere: it opens them on first use
                pass

        await asyncio.gather(*(loop.run_in_executor(_executor(), one) for _ in range(THREADS)))


WARM_WAIT_S = 5.0


def prefetch(release: Path) -> None:
    """Ask the kernel to read the release's shards into the page cache in the background
    (`posix_fadvise` WILLNEED; it can block while the kernel queues the reads: ~1 s for
    100 MB not yet cached, a few ms once they are, so `warm` runs it on a thread of its own).
    A query reads a few pages of every shard; on a freshly copied release each of those is a
    disk read (tens of ms on a busy disk), and the shards are what every search reads."""
    advise = getattr(os, "posix_fadvise", None)
    if advise is None:
        return
    for shard in range(SHARDS):
        try:
            fd = os.open(shard_path(release, shard), os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            advise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
        except OSError:
            pass
        finally:
            os.close(fd)


@dataclass
class Page:
    """One page of the site search: the ranking, then the shown datasets with what their own
    indexes say (`query.search_tables`: exact counts, best rows, labels, primary keys)."""

    ranked: Ranked
    shown: list[tuple[DatasetHit, list[dict]]]
    next: int | None  # the candidate to continue from, None on the last page


def search_page(shards: Shards, query: str, start: int, *, size: int, verify_max: int, rows: int) -> Page:
    """Rank, then verify candidates from the `start`-th until `size` datasets with matching
    rows are found or `verify_max` were tried (bounds can be loose for phrases)."""
    phrases = match_phrases(query)
    ranked = None
    if len(phrases) == 1 and len(phrases[0]) == 1:
        # one token: the shards' counts are exact, so every candidate has matching rows and the
        # page needs only its own `size` of them (a quarter of the `top` rows read and merged)
        ranked = candidates(shards, query, top=start + size)
        if not ranked.exact:  # a prefix that several terms start with: bounds after all
            ranked = None
    if ranked is None:
        ranked = candidates(shards, query, top=start + verify_max)
    shown: list[tuple[DatasetHit, list[dict]]] = []
    pos = start
    while len(shown) < size and pos < len(ranked.datasets) and pos - start < verify_max:
        hit = ranked.datasets[pos]
        pos += 1
        with shards.databases.opened(hit.dataset) as conn:
            results = search_tables(
                conn,
                [t.tindex for t in hit.tables],
                query,
                limit=rows,
                counts=[t.count for t in hit.tables],
                shapes=shards.databases.shapes(hit.dataset),
            )
        found = [r for r in results if r["count"]]
        if found:
            shown.append((hit, found))
    return Page(ranked, shown, pos if pos < ranked.matched else None)


def candidates(shards: list[sqlite3.Connection], query: str, *, top: int = 50) -> Ranked:
    """The best `top` datasets that may hold rows matching `query`, best first, and how many
    there are with how many rows over the whole site (see the module). Each shard ranks and
    counts its own datasets and returns only its best `top`: the work in Python does not grow
    with the number of datasets, and for a query of one token neither does the work in SQLite
    (its counts are in `term_stats`, its best tables first in the `postings_rank` index)."""
    phrases = match_phrases(query)
    if not phrases or not shards:
        return Ranked([], 0, True, 0)
    tables_total = sum(_shard_stats(conn)[0] for conn in shards)
    single = phrases[0][0] if len(phrases) == 1 and len(phrases[0]) == 1 else None
    best: list[tuple] = []
    matched = total = 0
    exact = True
    for conn in shards:
        found = _one_token(conn, single[0], single[1], top) if single else None
        if found is None:
            found = _general(conn, phrases, top)
        shard_best, shard_matched, shard_total, shard_exact = found
        matched += shard_matched
        total += shard_total
        exact = exact and shard_exact
        best.extend((conn, *r) for r in shard_best)
    best.sort(key=_order)
    best = best[:top]
    # idf: one value per query (it orders nothing), kept so that scores compare across queries
    idf = math.log(1 + (tables_total - matched + 0.5) / (matched + 0.5))
    # a plain list of connections (the bench, tests) keeps nothing
    tables: dict[tuple[int, int], TableHit] = shards.table_hits if isinstance(shards, Shards) else {}
    if len(tables) > TABLE_HITS_KEPT:
        tables.clear()
    for conn in {id(r[0]): r[0] for r in best}.values():
        wanted = [tid for r in best if r[0] is conn for tid, _ in _tid_list(r[5]) if (id(conn), tid) not in tables]
        if wanted:
            tables.update(_tables(conn, wanted))
    hits = [
        DatasetHit(
            dataset,
            round(idf * score, 6),
            count,
            one,
            [_counted(tables[id(conn), tid], docs) for tid, docs in sorted(_tid_list(tids))],
        )
        for conn, dataset, score, count, one, tids in best
    ]
    return Ranked(hits, total, exact, matched)


TABLE_HITS_KEPT = 20_000  # tables whose description a thread keeps (a few MB)


def _counted(table: TableHit, docs: int | None) -> TableHit:
    return table if docs is None else TableHit(table.dataset, table.tindex, table.rows, docs)


_Tids = list[tuple[int, int | None]] | str
# per shard: its best datasets as (name, score, matching rows, exact, tables), how many datasets
# match, how many rows, whether those counts are exact; tables as [(tid, exact rows or None)] or
# as `top` holds them, `tid:docs,…` (read only for the datasets that survive the merge)
_ShardAnswer = tuple[list[tuple[str, float, int, bool, _Tids]], int, int, bool]


def _tid_list(tids: _Tids) -> list[tuple[int, int | None]]:
    if not isinstance(tids, str):
        return tids
    out: list[tuple[int, int | None]] = []
    for part in tids.split(","):
        tid, _, docs = part.partition(":")
        out.append((int(tid), int(docs)))
    return out


def _one_token(conn: sqlite3.Connection, token: str, prefix: bool, top: int) -> _ShardAnswer | None:
    """A one-token query on one shard from its precomputed counts and rank index: exact counts,
    the best `top` datasets (and every dataset tied with the last of them, so that merging the
    shards' lists is exact); None for a prefix that more than one term of the shard starts with
    (the general query then counts, with bounds)."""
    if prefix:
        terms = conn.execute(
            "SELECT term FROM term_stats WHERE term >= ? AND term < ? LIMIT 2", [token, token + _TOP]
        ).fetchall()
        if len(terms) > 1:
            return None
        if not terms:
            return [], 0, 0, True
        token = terms[0][0]
    # the token's counts and, for a common token, its best datasets ranked at build time: one
    # statement per shard (a page asks all sixteen)
    found = conn.execute(
        "SELECT s.datasets, s.docs, t.dataset, t.score, t.docs, t.tids FROM term_stats s "
        "LEFT JOIN top t ON t.term = s.term AND t.rank < ? WHERE s.term = ? ORDER BY t.rank",
        [top if top <= TOP_K else 0, token],
    ).fetchall()
    if not found:
        return [], 0, 0, True
    stats = found[0][:2]
    if stats[0] >= TOP_MIN and top <= TOP_K:  # a common token: ranked at build time
        return (
            [(name, score, docs, True, tids) for _, _, name, score, docs, tids in found if name is not None],
            *stats,
            True,
        )
    ranked_sql = (
        "SELECT p.score, t.dataset FROM postings p INDEXED BY postings_rank JOIN tables t USING (tid) "
        "WHERE p.term = ? ORDER BY p.score DESC LIMIT ?"
    )
    limit = top
    while True:
        rows = conn.execute(ranked_sql, [token, limit]).fetchall()
        names = {name for _, name in rows}
        if len(names) >= top or len(rows) < limit:
            break
        limit *= 2  # a dataset with several tables took more than one row
    if len(rows) == limit:
        tied = conn.execute(
            "SELECT t.dataset FROM postings p JOIN tables t USING (tid) WHERE p.term = ? AND p.score = ?",
            [token, rows[-1][0]],
        )
        names.update(name for (name,) in tied)
    groups: dict[str, list] = {}
    for name, tid, docs, score in conn.execute(
        "SELECT t.dataset, t.tid, p.docs, p.score FROM tables t CROSS JOIN postings p ON p.term = ? AND p.tid = t.tid "
        "WHERE t.dataset IN (SELECT value FROM json_each(?))",
        [token, json.dumps(sorted(names), ensure_ascii=False)],
    ):
        group = groups.setdefault(name, [name, score, 0, True, []])
        group[1] = max(group[1], score)
        group[2] += docs
        group[4].append((tid, docs))
    found = sorted(((None, *g) for g in groups.values()), key=_order)[:top]
    return [(g[1], g[2], g[3], g[4], g[5]) for g in found], stats[0], stats[1], True


def _order(hit: tuple) -> tuple:
    """Best first: score, then more matching rows, then the name (a total order, so that every
    shard's best `top` merge into the site's best `top`, and pages never overlap)."""
    return (-hit[2], -hit[3], hit[1])


def _general(conn: sqlite3.Connection, phrases: list[Phrase], top: int) -> _ShardAnswer:
    """Any query on one shard, with bounds (see `_ranking_sql`); the rarest exact token of the
    shard leads, so the work follows the rows holding it, not those holding the commonest."""
    exact_tokens = sorted({t for p in phrases for t, prefix in p if not prefix})
    if exact_tokens:
        docs = dict(
            conn.execute(
                "SELECT term, docs FROM term_stats WHERE term IN (SELECT value FROM json_each(?))",
                [json.dumps(exact_tokens, ensure_ascii=False)],
            )
        )
        if len(docs) < len(exact_tokens):  # a token no table of the shard holds
            return [], 0, 0, True
        exact_tokens.sort(key=lambda t: (docs[t], t))
    sql, params = _ranking_sql(phrases, exact_tokens)
    params.update(ref=REF_ROWS, k1=K1, b=B, top=top)
    rows = conn.execute(sql, params).fetchall()
    if not rows:
        return [], 0, 0, True
    best: list[tuple[str, float, int, bool, _Tids]] = [
        (r[0], r[1], r[2], bool(r[3]), [(int(t), None) for t in str(r[4]).split(",")]) for r in rows
    ]
    return best, rows[0][5], rows[0][6], bool(rows[0][7])


def _ranking_sql(phrases: list[Phrase], exact_tokens: list[str]) -> tuple[str, dict]:
    """One query per shard: each table's bound (the smallest count of any of the query's
    tokens in it: every phrase, so every token, must be found in a matching row), BM25 over
    tables, grouped by dataset, best `:top` with the shard's totals beside them. The first of
    `exact_tokens` drives; the others are looked up by (term, table)."""
    prefixes = sorted({t for p in phrases for t, prefix in p if prefix})
    params: dict = {}
    ctes, values, joins = [], [], []
    if exact_tokens:
        cols, lookups = ["l.tid AS tid", "l.docs AS e0"], []
        params["e0"] = exact_tokens[0]
        values.append("e.e0")
        for i, token in enumerate(exact_tokens[1:], start=1):
            params[f"e{i}"] = token
            cols.append(f"p{i}.docs AS e{i}")
            lookups.append(f" CROSS JOIN postings p{i} ON p{i}.term = :e{i} AND p{i}.tid = l.tid")
            values.append(f"e.e{i}")
        ctes.append(f"e AS (SELECT {', '.join(cols)} FROM postings l{''.join(lookups)} WHERE l.term = :e0)")
        joins.append("e")
    for i, prefix in enumerate(prefixes):
        params[f"x{i}"], params[f"x{i}_end"] = prefix, prefix + _TOP
        ctes.append(
            f"x{i} AS (SELECT tid, sum(docs) AS s, count(*) AS n FROM postings "
            f"WHERE term >= :x{i} AND term < :x{i}_end GROUP BY tid)"
        )
        values.append(f"x{i}.s")
        joins.append(f"x{i}")
    one_token = len(phrases) == 1 and len(phrases[0]) == 1
    # exact for one token: its count, or for a prefix the count of the one term it starts
    exact = ("x0.n = 1" if prefixes else "1") if one_token else "0"
    bound = values[0] if len(values) == 1 else f"min({', '.join(values)})"
    source = joins[0] + "".join(f" JOIN {j} USING (tid)" for j in joins[1:])
    sql = f"""
        WITH {", ".join(ctes)},
        hits AS (
            SELECT t.dataset, t.tid, {bound} AS bound, {exact} AS exact,
                   {bound} * (:k1 + 1.0) / ({bound} + :k1 * (1 - :b + :b * t.rows / :ref)) AS score
            FROM {source} JOIN tables t USING (tid)
        ),
        datasets AS (
            SELECT dataset, max(score) AS score, sum(bound) AS count, min(exact) AS exact,
                   group_concat(tid) AS tids
            FROM hits GROUP BY dataset
        )
        SELECT dataset, score, count, exact, tids,
               count(*) OVER () AS matched, sum(count) OVER () AS total, min(exact) OVER () AS all_exact
        FROM datasets ORDER BY score DESC, count DESC, dataset LIMIT :top
    """
    return sql, params


def _tables(conn: sqlite3.Connection, tids: list[int]) -> dict[tuple[int, int], TableHit]:
    found = conn.execute(
        "SELECT tid, dataset, tbl, idx, columns, terms, rows FROM tables WHERE tid IN (SELECT value FROM json_each(?))",
        [json.dumps(tids)],
    ).fetchall()
    return {
        (id(conn), tid): TableHit(dataset, TableIndex(table, idx, tuple(json.loads(columns)), terms), rows)
        for tid, dataset, table, idx, columns, terms, rows in found
    }


__all__ = [
    "FOLDER",
    "SHARDS",
    "DatasetHit",
    "Entry",
    "Page",
    "Ranked",
    "ShardStore",
    "Shards",
    "TableHit",
    "candidates",
    "open_shards",
    "search_page",
    "shard_of",
    "shard_path",
    "write",
]
