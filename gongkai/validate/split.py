"""The parallel split: the second part of a big table validated (and written) in a forked child
while this process does the first.

Validation is Python and holds the GIL, so a second core only helps in a second process. The
parent guesses a line start (a byte offset) about half-way through the file and forks. The
child finds the first record start at or after the guess, and how many records come before it
(`reader.scan_records`: exact, mostly in C, reading the file in chunks), and sends it through a
pipe; the parent reads its lines up to the guess and then, from the pipe, on to that record
start. Each process reads only its own part of the open file, a chunk at a time (nothing of the
file is held, in either), with its own csv reader and the exact row numbers. Only a file whose
encoding keeps line ends as single bytes (`reader.Source.line_safe`) is split. The child runs the same generated row function with its own copy of the
key memories. When the consumer of the rows gave a `PartWriter` (the loader does) the child
writes its valid rows through it itself, into a file of the consumer's own; the parent hands
the file on in `RowStream.parts`, for the consumer to append after the rows it iterated,
without the rows ever crossing between the processes. This module knows nothing of that
file's format.

The child is only a guess that the second part is clean. At the end it hands back its key
memories (`keys.KeySnapshot`); the parent takes the part only if the child met no row the fast
path could not accept and no key of the part collides with the first part's. Otherwise the
part is thrown away and the parent validates the second part itself, from the first row, with
its own state, exactly as without the child: the result never depends on the child, only the
time does.

The personal-data guard (`personal_data`) runs inside the same row function: a row holding
personal data goes to the slow path, which in the child makes the part dirty, so the parent
reports every hit itself, with its row number, as it reports every other error.

The validator hands out what the split needs as a `Plan` (frozen), and the split hands rows
back; neither reads the other's attributes.
"""

from __future__ import annotations

import csv
import itertools
import os
import pickle
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..model import Resource
from . import pattern_guard, reader
from .keys import Duplicate, KeyMemory, KeySnapshot, KeyStore

MIN_BYTES_ENV = "GONGKAI_SPECULATE_MIN_BYTES"  # tests lower it to exercise the split on small files
MIN_BYTES = 8 << 20  # below this a fork costs more than it saves
# The share of the text the parent validates: the child also writes its own part and
# hands back its key memories.
PARENT_SHARE = 0.5
CLEAN, DIRTY, FAILED = 0, 3, 4

Record = tuple[int, list[str]]  # (row number, cells)
SlowPath = Callable[[int, list[str]], "tuple | None"]
# The table's generated row function: (records, slow path, counter) -> valid rows
RowFunction = Callable[[Iterable[Record], SlowPath, list[int]], Iterator[tuple]]


class PartWriter(Protocol):
    """What the consumer of the rows (the loader) implements to take a part validated in the
    child: write `rows` (all of them) into `path`, a file of its own format, which it appends
    later, from `RowStream.parts`, after the rows it iterated."""

    def __call__(self, resource: Resource, rows: Iterable[tuple], path: Path, /) -> None: ...


@dataclass(frozen=True)
class Plan:
    """What the split needs of a table, handed out by its validator: the open file, the byte
    where the data starts in it (``body``, after ``header_records`` records of header), how to
    read it, and the key memories the row function fills."""

    resource: Resource
    source: reader.Source
    fmt: str
    body: int
    header_records: int
    options: dict
    layout: reader.Layout
    keys: KeyMemory | KeyStore


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
    """A table's valid rows, iterated once. With a `writer`, the rows at the end of a big table
    may come instead as files in `parts` (written by the writer, in the child): the consumer
    appends each, in order, after the rows it iterated."""

    def __init__(self, rows: Callable[[RowStream], Iterator[tuple]], writer: PartWriter | None = None) -> None:
        super().__init__(lambda: rows(self))
        self.writer = writer
        self.parts: list[Path] = []


def may_split(fmt: str, size: int) -> bool:
    """Whether a table of this format and file size (bytes) is big enough to be split."""
    if not hasattr(os, "fork") or (os.cpu_count() or 1) < 2:
        return False
    min_bytes = int(os.environ.get(MIN_BYTES_ENV, MIN_BYTES))
    return fmt == "csv" and size >= min_bytes


def eligible(plan: Plan) -> bool:
    """Whether this table is worth splitting and can be (else it is validated in one piece)."""
    source = plan.source
    return not plan.layout.comment_rows and source.line_safe and may_split(plan.fmt, source.size)


def stream(
    plan: Plan,
    run: RowFunction,
    slow: SlowPath,
    counter: list,
    out: RowStream | None,
    whole: Iterable[Record],
    read_on: Callable[[Iterator[Record]], None],
) -> Iterator[tuple]:
    """The table's valid rows, the second part checked (and written) by a child process.

    ``whole`` are the table's records read in one piece, for a table too short to split;
    ``read_on`` is told the records this process reads instead (its part, then the second one
    unless the child's is taken): what the validator reads on from after the error limit."""
    source, options, layout = plan.source, plan.options, plan.layout
    body, consumed = plan.body, plan.header_records
    size = source.size
    guess = reader.line_start_at(source, body + int((size - body) * PARENT_SHARE))
    if guess >= size:  # no second part: one piece
        yield from run(whole, slow, counter)
        return

    def lines(start: int, stop: int | None = None):
        # each process reads and splits its own part into lines, a chunk at a time
        return source.lines(plan.fmt, start, stop)

    def part(start: int, row: int):
        return reader.content(reader.records_of(lines(start), options), layout, row)

    workdir = Path(tempfile.mkdtemp(prefix="gongkai-part-"))
    part_file = workdir / "part"
    state_file = workdir / "state.pickle"
    writer = out.writer if out is not None else None
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
                split, before = reader.scan_records(source, body, guess, options)
            except csv.Error:  # the parent meets it too, reading on in one piece
                split, before = size, 0
            os.write(boundary_w, str(split).encode())
            os.close(boundary_w)
            if split < size:
                content = part(split, consumed + 1 + before)
                code = _child(plan, run, content, writer, part_file, state_file)
        finally:
            os._exit(code)
    os.close(boundary_w)
    # The parent reads up to the guess, then up to the record start the child found after it
    # (by then long written to the pipe); without one, on to the end, as if alone.
    found: list[int] = []
    pipe = [boundary_r]  # emptied once read or closed

    def after_guess():
        split = _read_boundary(pipe, size)
        if split is None:
            return lines(guess)
        found.append(split)
        return lines(guess, split)

    def rest():
        return part(found[0], consumed + 1 + counter[0]) if found else iter(())

    try:
        first_lines = itertools.chain(lines(body, guess), Deferred(after_guess))
        first = reader.content(reader.records_of(first_lines, options), layout, consumed + 1)
        read_on(itertools.chain(first, Deferred(rest)))
        yield from run(first, slow, counter)
        if not found:  # the parent read everything itself
            return
        _, status = os.waitpid(pid, 0)
        pid = 0
        if os.WIFEXITED(status) and os.WEXITSTATUS(status) == CLEAN and adopt(plan.keys, state_file, counter):
            if out is not None and writer is not None:  # (writer is set only with out)
                kept = workdir.parent / f"{workdir.name}.part"
                os.replace(part_file, kept)  # the consumer appends it, then deletes it
                out.parts.append(kept)
            return
        counter2 = [0]
        yield from run(rest(), slow, counter2)
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


def _child(plan: Plan, run: RowFunction, content, writer: PartWriter | None, part: Path, state_file: Path) -> int:
    def slow(row_number, cells):
        raise _Dirty

    counter = [0]
    plan.keys.in_child(state_file.parent)  # its key database, if any, beside the state
    rows = run(content, slow, counter)
    try:
        if writer is not None:
            writer(plan.resource, rows, part)
        else:
            for _ in rows:
                pass
        snapshot = plan.keys.snapshot(counter[0])
    except (_Dirty, Duplicate):  # a key repeated within the part: the parent finds where
        return DIRTY
    with open(state_file, "wb") as fh:
        pickle.dump(snapshot, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return CLEAN


def adopt(keys: KeyMemory | KeyStore, state_file: Path, counter: list) -> bool:
    """Take the child's part if none of its keys collides with the first part's (and then the
    values other resources refer to that it saw). A `KeyStore` raises `keys.Duplicate` on a
    collision instead: the table repeats a key, and is read again exactly."""
    with open(state_file, "rb") as fh:
        state: KeySnapshot = pickle.load(fh)
    if keys.collides(state):
        return False
    keys.take_references(state)
    counter[0] += state.rows
    return True
