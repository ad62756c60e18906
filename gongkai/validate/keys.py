"""What a table's rows have used so far: its key memories.

The generated row function and the slow path both read and fill them; the parallel split
(`split.py`) hands a child's memories back to the parent as a `KeySnapshot` and asks whether
the two parts collide. One object, so neither has to know how the other stores them.

Two memories, one contract:

- `KeyStore`, the one a table is first read with: the primary-key and `unique` values go,
  in batches, into a temporary SQLite file (one WITHOUT ROWID table per key, its primary key
  the key's columns), so memory stays flat however many rows the table has (a Python dict of
  2M integer keys was 0.08 KB per row, the build's only growth in rows). It answers only
  whether some value came twice: on the first repeat (an INSERT that breaks the table's
  primary key, or a value SQLite cannot compare as Python does) it raises `Duplicate`, and
  the table is read again with
- `KeyMemory`, the exact one: value -> the row number it was last seen on, as frictionless's
  row stream keeps them, so the typed errors (row, field, "the same as row N") are
  frictionless's. A valid table never needs it; a table with a repeated key is read twice.

A table whose keys never fill one batch never opens a file: its repeats are found by a
Python set of the batch at the end (a build of 10,000 small datasets creates no file).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import apsw

# A None part of a composite key: frictionless compares `(a, None)` equal to `(a, None)`, an
# SQLite index never does with NULL. No cast value is bytes, so this blob equals only itself.
NUL = b"\x00gongkai:null"
# Rows whose keys are held in Python before they go to SQLite (the row function flushes every
# BATCH rows, and holds that batch's valid rows until then): a few MB, one executemany each.
BATCH = 1 << 14
_PRAGMAS = (
    "PRAGMA journal_mode = OFF",
    "PRAGMA synchronous = OFF",
    "PRAGMA cache_size = -8192",  # 8 MiB: the rest of the index lives in the (OS-cached) file
    "PRAGMA temp_store = FILE",
)


class Duplicate(Exception):
    """A key value came twice (or one SQLite cannot store or compare as Python does): the
    table is read again with the exact memory, which says where."""


@dataclass(frozen=True)
class KeySnapshot:
    """The keys alone (picklable): the row numbers they map to only serve later rows' errors.
    ``store`` is the child's key database (a `KeyStore`'s), else the keys themselves."""

    rows: int
    primary: list
    unique: dict[int, list]
    references: list[set]
    store: str | None = None


@dataclass(frozen=True)
class KeyMemory:
    """The exact memory. ``primary``: primary-key value (bare for one field) -> its row number;
    ``unique``: column index -> value -> row number; ``references``: per collected field tuple,
    the values other resources refer to by foreign key."""

    primary: dict = field(default_factory=dict)
    unique: dict[int, dict] = field(default_factory=dict)
    references: list[set] = field(default_factory=list)

    def in_child(self, folder: Path) -> None:
        """In the split's child: a copy of the dicts is the child's own already."""

    def snapshot(self, rows: int) -> KeySnapshot:
        return KeySnapshot(
            rows=rows,
            primary=list(self.primary),
            unique={i: list(seen) for i, seen in self.unique.items()},
            references=list(self.references),
        )

    def collides(self, other: KeySnapshot) -> bool:
        """Whether a key of `other` (a later part of the table) was already used here."""
        if not self.primary.keys().isdisjoint(other.primary):
            return True
        return any(not seen.keys().isdisjoint(other.unique[i]) for i, seen in self.unique.items())

    def take_references(self, other: KeySnapshot) -> None:
        """Add the referenced values `other` saw. The key memories themselves are not merged:
        they only serve rows still to come, and a part taken whole ends the table."""
        for refs, more in zip(self.references, other.references):
            refs |= more

    def close(self) -> None:
        pass


class KeyStore:
    """The flat memory (see the module docstring). The row function appends each valid row's
    key to ``primary`` (bare for one field, else a tuple with `NUL` for None) and each
    non-None ``unique`` value to ``unique[column]``, and calls `flush` every `BATCH` rows;
    `finish` after the last row raises `Duplicate` if any value came twice."""

    def __init__(self, width: int, unique: list[int], references: list[set]):
        self.width = width  # the primary key's fields (0: none)
        self.primary: list = []
        self.unique: dict[int, list] = {i: [] for i in unique}
        self.references = references
        self.passed = 0  # valid rows passed on after their batch's keys were stored
        self._folder: Path | None = None  # where the key database goes (None: the system's)
        self._dir: Path | None = None
        self._conn: apsw.Connection | None = None

    @property
    def _buffers(self) -> list[tuple[str, list, int]]:
        out = []
        if self.width:
            out.append(("pk", self.primary, self.width))
        out += [(f"u{i}", values, 1) for i, values in self.unique.items()]
        return out

    def _open(self) -> apsw.Connection:
        self._dir = Path(tempfile.mkdtemp(prefix="gongkai-keys-", dir=self._folder))
        conn = apsw.Connection(str(self._dir / "keys.db"))
        for pragma in _PRAGMAS:
            conn.execute(pragma)
        for table, _, width in self._buffers:
            # no declared type: no affinity, so 1 = 1.0 and '1' <> 1, as in Python
            columns = ", ".join(f"k{j}" for j in range(width))
            conn.execute(f"CREATE TABLE {table} ({columns}, PRIMARY KEY ({columns})) WITHOUT ROWID")
        self._conn = conn
        return conn

    def flush(self) -> None:
        """Move the batch into SQLite; `Duplicate` if a value was there (or came twice)."""
        buffers = [b for b in self._buffers if b[1]]
        if not buffers:
            return
        conn = self._conn or self._open()
        try:
            with conn:
                for table, values, width in buffers:
                    marks = ", ".join("?" for _ in range(width))
                    # zip(values): the 1-tuples executemany binds, made in C
                    conn.executemany(f"INSERT INTO {table} VALUES ({marks})", values if width > 1 else zip(values))
        except (apsw.Error, OverflowError, TypeError, ValueError) as exc:
            # a repeat, or a value SQLite cannot hold as Python compares it (NaN becomes
            # NULL, an integer past 64 bits): the exact memory decides
            raise Duplicate from exc
        finally:
            for _, values, _ in buffers:
                values.clear()

    def finish(self) -> None:
        """After the last row read: `Duplicate` if some key value came twice."""
        if self._conn is None:
            # never past one batch: a set of it answers (Python's own equality, as the exact memory's)
            for _, values, _ in self._buffers:
                if len(set(values)) != len(values):
                    raise Duplicate
            return
        self.flush()

    def in_child(self, folder: Path) -> None:
        """In the split's child: the parent's batch and connection are the parent's; the child
        keeps its keys in a database of its own, in the split's folder (removed with it)."""
        for _, values, _ in self._buffers:
            values.clear()
        self._conn = None  # the parent's, inherited across fork(): never used (nor closed) here
        self._dir = None
        self._folder = folder

    def snapshot(self, rows: int) -> KeySnapshot:
        """The child's keys, in its database (`Duplicate` if they repeat within the part)."""
        self.flush()
        if self._conn is None and self._buffers:
            self._open()
        store = None
        if self._conn is not None:
            assert self._dir is not None
            self._conn.close()
            self._conn = None
            store = str(self._dir / "keys.db")
        return KeySnapshot(rows=rows, primary=[], unique={}, references=list(self.references), store=store)

    def collides(self, other: KeySnapshot) -> bool:
        """A key of the child's part already used in this one raises `Duplicate` (the table
        then has an error somewhere, which only the exact memory can place)."""
        if other.store is None:
            return False
        self.flush()
        conn = self._conn or self._open()
        conn.execute("ATTACH DATABASE ? AS part", (other.store,))
        try:
            for table, _, width in self._buffers:
                if not _disjoint(conn, table, width):
                    raise Duplicate
        finally:
            conn.execute("DETACH DATABASE part")
        return False

    def take_references(self, other: KeySnapshot) -> None:
        for refs, more in zip(self.references, other.references):
            refs |= more

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


def _disjoint(conn: apsw.Connection, table: str, width: int) -> bool:
    """Whether the part's keys and this one's share no value. Ids mostly grow through a file,
    so the two parts' key ranges (read off the primary keys' ends) usually prove it at once;
    otherwise the part's keys are looked up in this one's index."""
    if width == 1:
        row = conn.execute(
            f"SELECT coalesce((SELECT max(k0) FROM main.{table}) < (SELECT min(k0) FROM part.{table})"
            f" OR (SELECT max(k0) FROM part.{table}) < (SELECT min(k0) FROM main.{table}), 1)"
        ).fetchone()
        assert row is not None  # a SELECT of one expression answers one row
        (apart,) = row
        if apart:
            return True
    using = ", ".join(f"k{j}" for j in range(width))
    found = conn.execute(f"SELECT 1 FROM part.{table} JOIN main.{table} USING ({using}) LIMIT 1").fetchone()
    return found is None
