"""Validate (and load) the second part of a big table in a forked child while this process does
the first.

Validation is Python and holds the GIL, so a second core only helps in a second process. The
parent guesses a line start a little after half of the text and forks. The child finds the
first record start at or after the guess, and how many records come before it
(`reader.scan_records`: exact, mostly in C), and sends it through a pipe; the parent reads its
lines up to the guess and then, from the pipe, on to that record start. Each process splits
only its own part into lines, after the fork, and reads it with its own csv reader and the
exact row numbers. The child runs the same generated row function with its own copy of the
key memories. When the consumer of the rows can take a *part* (a `RowStream` whose
`part_writer` is set, as the SQLite loader does) the child writes its valid rows there
itself; the parent appends the part after its own rows, in C, without the rows ever crossing
between the processes.

The child is only a guess that the second part is clean. At the end it hands back its key
memories (primary key, `unique`, values other resources refer to); the parent takes the part
only if the child met no row the fast path could not accept and no key of the part collides
with the first part's. Otherwise the part is thrown away and the parent validates the second
part itself, from the first row, with its own state, exactly as without the child: the result
never depends on the child, only the time does.
"""

from __future__ import annotations

import csv
import itertools
import os
import pickle
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from . import pattern_guard, reader

MIN_BYTES_ENV = "GONGKAI_SPECULATE_MIN_BYTES"  # tests lower it to exercise the split on small files
MIN_BYTES = 8 << 20  # below this a fork costs more than it saves
# The share of the text the parent validates: the child also writes its own database and
# hands back its key memories.
PARENT_SHARE = 0.5
CLEAN, DIRTY, FAILED = 0, 3, 4


class _Dirty(Exception):
    """The child met a row only the slow path can judge."""


class Deferred:
    """An iterator made on first use (a part of a table split into lines only if it is read).
    A `for` loop asks for it once, so it costs nothing per row."""

    def __init__(self, make):
        self._make = make
        self._iterator = None

    def __iter__(self):
        if self._iterator is None:
            self._iterator = iter(self._make())
        return self._iterator

    def __next__(self):
        return next(iter(self))


class RowStream(Deferred):
    """A table's valid rows, iterated once; `parts` lists SQLite files holding the rows after
    them (written by `part_writer`, when the consumer set one before iterating)."""

    def __init__(self, validator) -> None:
        super().__init__(lambda: validator.rows(out=self))
        self.part_writer: Callable[[Iterator[tuple], Path], None] | None = None
        self.parts: list[Path] = []


def may_split(v) -> bool:
    """Whether the table is big enough to be split, as far as its text tells."""
    if not hasattr(os, "fork") or (os.cpu_count() or 1) < 2:
        return False
    min_bytes = int(os.environ.get(MIN_BYTES_ENV, MIN_BYTES))
    return v._fmt == "csv" and len(v._text) >= min_bytes


def eligible(v) -> bool:
    """Whether this table is worth splitting and can be (else it is validated in one piece)."""
    return v._body is not None and bool(v.labels) and not v._layout.comment_rows and may_split(v)


def stream(v, make: Callable, counter: list, out: RowStream | None) -> Iterator[tuple]:
    """The table's valid rows, the second part checked (and written) by a child process."""
    text, options, layout = v._text, v._options, v._layout
    body, consumed = v._body
    guess = reader.line_start_from(text, body + int((len(text) - body) * PARENT_SHARE))
    if guess >= len(text):  # no second part: one piece
        yield from make(v._content, v._slow, counter)
        return

    def lines(start: int, stop: int | None = None):
        # each process splits its own part into lines, after the fork: line objects made
        # before it would be shared copy-on-write, and touching them (reference counts)
        # copies their pages, in both processes (measured: 0.14 s a process on the bench)
        return reader.lines(text[start:stop], "csv")

    def part(start: int, row: int):
        return reader.content(reader.records_of(lines(start), options), layout, row)

    workdir = Path(tempfile.mkdtemp(prefix="gongkai-part-"))
    partdb = workdir / "part.db"
    state_file = workdir / "state.pickle"
    writer = out.part_writer if out is not None else None
    parent = os.getpid()
    boundary_r, boundary_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: find where its part starts, check the part, write it, exit at once
        code = FAILED
        try:
            pattern_guard.rearm_after_fork()  # a runaway pattern ends the child too (it is then DIRTY)
            _die_with(parent)
            os.close(boundary_r)
            try:
                split, before = reader.scan_records(text, body, guess, options)
            except csv.Error:  # the parent meets it too, reading on in one piece
                split, before = len(text), 0
            os.write(boundary_w, str(split).encode())
            os.close(boundary_w)
            if split < len(text):
                code = _child(v, make, part(split, consumed + 1 + before), writer, partdb, state_file)
        finally:
            os._exit(code)
    os.close(boundary_w)
    # The parent reads up to the guess, then up to the record start the child found after it
    # (by then long written to the pipe); without one, on to the end, as if alone.
    found: list[int] = []
    pipe = [boundary_r]  # emptied once read or closed

    def after_guess():
        split = _read_boundary(pipe, len(text))
        if split is None:
            return lines(guess)
        found.append(split)
        return lines(guess, split)

    def rest():
        return part(found[0], consumed + 1 + counter[0]) if found else iter(())

    try:
        source = itertools.chain(lines(body, guess), Deferred(after_guess))
        first = reader.content(reader.records_of(source, options), layout, consumed + 1)
        v._content = itertools.chain(first, Deferred(rest))  # what the error limit's look-up reads
        yield from make(first, v._slow, counter)
        if not found:  # the parent read everything itself
            return
        _, status = os.waitpid(pid, 0)
        pid = 0
        if os.WIFEXITED(status) and os.WEXITSTATUS(status) == CLEAN and _adopt(v, state_file, counter):
            if out is not None and writer is not None:  # (writer is set only with out)
                kept = workdir.parent / f"{workdir.name}.db"
                os.replace(partdb, kept)  # the consumer appends it, then deletes it
                out.parts.append(kept)
            return
        counter2 = [0]
        yield from make(rest(), v._slow, counter2)
        counter[0] += counter2[0]
    finally:
        if pipe:  # never read: the parent stopped early (error limit); the rest is read alone
            os.close(pipe.pop())
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        shutil.rmtree(workdir, ignore_errors=True)


def _read_boundary(pipe: list, end: int) -> int | None:
    """The record start the child found (the second part's start), or None if it found none
    (it died first, or the text ends before one, or the pipe was closed unread)."""
    if not pipe:
        return None
    fd = pipe.pop()
    data = b""
    try:
        while chunk := os.read(fd, 64):
            data += chunk
    finally:
        os.close(fd)
    try:
        split = int(data.split()[0])
    except (IndexError, ValueError):
        return None
    return split if split < end else None


def _die_with(parent: int) -> None:
    """A killed parent must not leave its child running: the child holds copies of the
    parent's open files, the build lock among them."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before the death signal was armed
        os._exit(FAILED)


def _child(v, make: Callable, content, writer, part: Path, state_file: Path) -> int:
    def slow(row_number, cells):
        raise _Dirty

    counter = [0]
    rows = make(content, slow, counter)
    try:
        if writer is not None:
            writer(rows, part)
        else:
            for _ in rows:
                pass
    except _Dirty:
        return DIRTY
    state = {  # the keys alone: the row numbers they map to are only for later rows' errors
        "rows": counter[0],
        "pk": list(v._pk_seen),
        "unique": {i: list(seen) for i, seen in v._unique_seen.items()},
        "collect": [refs for _, _, refs in v._collect],
    }
    with open(state_file, "wb") as fh:
        pickle.dump(state, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return CLEAN


def _adopt(v, state_file: Path, counter: list) -> bool:
    """Take the child's part if none of its keys collides with the first part's.

    The key memories themselves are not merged: they only serve rows still to come, and the
    part ends the table. The values other resources refer to are."""
    with open(state_file, "rb") as fh:
        state = pickle.load(fh)
    if not v._pk_seen.keys().isdisjoint(state["pk"]):
        return False
    for i, seen in v._unique_seen.items():
        if not seen.keys().isdisjoint(state["unique"][i]):
            return False
    for (_, _, refs), child_refs in zip(v._collect, state["collect"]):
        refs |= child_refs
    counter[0] += state["rows"]
    return True
