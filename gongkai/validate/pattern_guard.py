"""A time budget for `pattern` constraints: a regular expression that backtracks for ever (such
as `(a+)+$` on forty characters) stops the table with an error instead of hanging the build.

Patterns run under Python's `re`, as frictionless runs them (same semantics, and the fastest
engine for the patterns people write). `re` checks for signals while it matches, so while a
table with a pattern constraint is read, a `SIGALRM` interval timer ticks every `TICK_S`; the
handler looks at the frame it interrupted, and when the same call of a row function or a cast
(same frame, same instruction, same row) is still running at the next tick, the row has taken
more than `TICK_S` in one call, which only a runaway pattern does: it raises `PatternTimeout`.
Nothing is added per cell. Only the main thread can take signals: elsewhere there is no guard.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

TICK_S = 1.0


class PatternTimeout(BaseException):
    """A pattern match ran past the budget (a BaseException: the row loop's `except Exception`
    must not send the row to be matched again)."""


_state = {"depth": 0, "last": None}


def _frame_key(frame):
    while frame is not None:
        name = frame.f_code.co_filename
        if name.startswith("<rows ") or name.startswith("<cast "):
            count = frame.f_locals.get("count") if name.startswith("<rows ") else None
            return (id(frame), frame.f_lasti, count)
        frame = frame.f_back
    return None


def _tick(signum, frame):
    key = _frame_key(frame)
    if key is not None and key == _state["last"]:
        _state["last"] = None
        raise PatternTimeout()
    _state["last"] = key


@contextmanager
def guarded(active: bool = True):
    """Run the block with the guard armed (re-entrant; a no-op off the main thread)."""
    if not active or threading.current_thread() is not threading.main_thread():
        yield
        return
    if _state["depth"]:
        _state["depth"] += 1
        try:
            yield
        finally:
            _state["depth"] -= 1
        return
    previous = signal.signal(signal.SIGALRM, _tick)
    old_timer = signal.setitimer(signal.ITIMER_REAL, TICK_S, TICK_S)
    _state["depth"], _state["last"] = 1, None
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        _state["depth"], _state["last"] = 0, None
        signal.signal(signal.SIGALRM, previous)
        if old_timer[0]:
            signal.setitimer(signal.ITIMER_REAL, *old_timer)


def rearm_after_fork() -> None:
    """A forked child inherits the handler but not the timer."""
    if _state["depth"]:
        signal.setitimer(signal.ITIMER_REAL, TICK_S, TICK_S)
