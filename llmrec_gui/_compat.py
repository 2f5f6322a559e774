"""Work around a PySide6 6.12.0 refcount bug on CPython 3.11: QPainter's void methods (drawLine,
setPen, drawRect, ...) return None without a reference (measured: sys.getrefcount(None) drops by
one per call), so after enough painting None's count reaches zero and the interpreter aborts with
"Fatal Python error: none_dealloc". CPython 3.12+ makes None immortal, which hides the bug; on
older Pythons we give None the same immortality by raising its count far out of reach."""
from __future__ import annotations

import sys


def make_none_immortal() -> None:
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return
    import ctypes
    refcnt = ctypes.c_ssize_t.from_address(id(None))   # ob_refcnt is the first field of every object
    if refcnt.value < (1 << 40):
        refcnt.value += 1 << 40
