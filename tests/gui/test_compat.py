"""The PySide6 6.12 refcount workaround: heavy painting must never bring None's count to zero."""
from __future__ import annotations

import sys


def test_painting_many_lines_does_not_abort(qapp):
    import llmrec_gui  # noqa: F401  (applies the workaround)
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QImage, QPainter
    img = QImage(64, 64, QImage.Format.Format_ARGB32)
    p = QPainter(img)
    before = sys.getrefcount(None)
    for _ in range(20000):
        p.drawLine(QPointF(0, 0), QPointF(5, 5))
    p.end()
    assert sys.getrefcount(None) > 1_000_000   # far from zero whatever the binding does
    assert before - sys.getrefcount(None) <= 20001
