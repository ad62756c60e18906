"""Progress of a long validation, per resource: a bar (rows, rate) redrawn in place when stderr
is a terminal, plain lines otherwise (CI logs, pipes: a line at the start, one every
`LINE_EVERY` seconds, one at the end).

For `gongkai validate` it is a sink of `validate.package.validate_dataset` (it consumes each
resource's valid rows, counting them); for `gongkai build` it watches the rows on their way to
the loader (`watch`, then `done` with the rows loaded). Validation itself is unchanged. The bar's 100 % is the file's line count (an
upper bound for CSV rows: a quoted cell may hold a line break), read only for a terminal.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TextIO

from ..i18n import t
from ..model import Resource
from ..validate.split import RowStream

TICK_ROWS = 4096  # look at the clock every this many rows
REDRAW_EVERY = 0.1
LINE_EVERY = 5.0
BAR_WIDTH = 24


def _both(key: str, **fmt) -> str:
    return f"{t(key, 'zh', **fmt)} / {t(key, 'en', **fmt)}"


def _lines_in(path) -> int | None:
    try:
        count = 0
        with open(path, "rb") as fh:
            while block := fh.read(1 << 20):
                count += block.count(b"\n")
        return count
    except OSError:
        return None


class Progress:
    def __init__(
        self,
        stream: TextIO | None = None,
        tty: bool | None = None,
        redraw_every: float = REDRAW_EVERY,
        line_every: float = LINE_EVERY,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.redraw_every, self.line_every = redraw_every, line_every
        self._started, self._count = time.perf_counter(), 0

    def __call__(self, resource: Resource, rows) -> None:
        """As a sink of `validate_dataset`: consume (validate) the rows, showing progress."""
        if not isinstance(rows, RowStream):  # a resource that is not read (its dataset failed earlier)
            for _ in rows:
                pass
            return
        for _ in self.watch(resource, rows):
            pass
        self.done(resource)

    def watch(self, resource: Resource, rows: Iterable[tuple]) -> Iterator[tuple]:
        """`rows`, passed on one by one while they are counted and shown (for the build, whose
        loader consumes them); call `done` after."""
        label = f"{resource.dataset}/{resource.name}"
        total = _lines_in(resource.fullpath) if self.tty and resource.fullpath else None
        if not self.tty:
            size = os.path.getsize(resource.fullpath) if resource.fullpath and resource.fullpath.is_file() else 0
            self._line(_both("progress_start", resource=label, bytes=f"{size:,}"))
        self._started = started = last = time.perf_counter()
        self._count = count = 0
        for row in rows:
            count += 1
            if count % TICK_ROWS == 0:
                self._count = count
                now = time.perf_counter()
                if self.tty and now - last >= self.redraw_every:
                    self._bar(label, count, total, now - started)
                    last = now
                elif not self.tty and now - last >= self.line_every:
                    self._line(
                        _both("progress_rows", resource=label, rows=f"{count:,}", rate=_rate(count, now - started))
                    )
                    last = now
            yield row
        self._count = count

    def done(self, resource: Resource, rows: int | None = None) -> None:
        """The resource's last line; `rows` when more were validated than passed through `watch`
        (the build's second half, validated and written by a child process)."""
        label = f"{resource.dataset}/{resource.name}"
        count = self._count if rows is None else rows
        seconds = time.perf_counter() - self._started
        if self.tty:
            self.stream.write("\r\x1b[2K")
        self._line(
            _both(
                "progress_done", resource=label, rows=f"{count:,}", seconds=f"{seconds:.2f}", rate=_rate(count, seconds)
            )
        )

    def _bar(self, label: str, count: int, total: int | None, seconds: float) -> None:
        text = _both("progress_rows", resource=label, rows=f"{count:,}", rate=_rate(count, seconds))
        if total:
            share = min(count / total, 1.0)
            filled = round(share * BAR_WIDTH)
            text = f"[{'█' * filled}{'░' * (BAR_WIDTH - filled)}] {share:4.0%} {text}"
        self.stream.write("\r\x1b[2K" + text)
        self.stream.flush()

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()


def _rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f}" if seconds > 0 else "—"
