"""Start-up milestones (window painted, views built, database open, view complete) written to stderr when
LLMREC_GUI_TRACE_STARTUP is set: what benchmarks/startup.py times, from its own clock, as the lines arrive."""
from __future__ import annotations

import os
import sys
import time

_T0 = time.perf_counter()
_seen: set[str] = set()


def mark(name: str) -> None:
    """Say that `name` happened (once per name; nothing unless tracing is on)."""
    if name in _seen or not os.environ.get("LLMREC_GUI_TRACE_STARTUP"):
        return
    _seen.add(name)
    stall = "" if _watch is None else f" stall {_watch.longest:.3f}"
    print(f"llmrec-gui startup: {name} {time.perf_counter() - _T0:.3f}{stall}", file=sys.stderr, flush=True)


class StallWatch:
    """The longest gap between two ticks of a 10 ms timer on the GUI thread: how long the window could
    not answer a click while it started (reported with every later milestone)."""

    def __init__(self):
        from PySide6.QtCore import QTimer
        self.last = time.perf_counter()
        self.longest = 0.0
        self.timer = QTimer()
        self.timer.timeout.connect(self._tick)
        self.timer.start(10)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.longest = max(self.longest, now - self.last - 0.010)
        self.last = now


_watch: StallWatch | None = None


def watch_stalls() -> None:
    """Start measuring stalls (only when tracing)."""
    global _watch
    if os.environ.get("LLMREC_GUI_TRACE_STARTUP") and _watch is None:
        _watch = StallWatch()


def longest_stall() -> float | None:
    return None if _watch is None else _watch.longest
