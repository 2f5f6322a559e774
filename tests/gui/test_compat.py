"""Guard for the PySide6 pin: PySide6-Essentials 6.12.0 drops a reference to None on every QPainter
call on Python 3.11, and the interpreter aborts once None's count reaches zero. The installed
binding must not leak None references while painting."""
from __future__ import annotations

import sys


def test_painting_does_not_lose_references_to_none(qapp):
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QImage, QPainter
    img = QImage(64, 64, QImage.Format.Format_ARGB32)
    p = QPainter(img)
    before = sys.getrefcount(None)
    for _ in range(2000):
        p.drawLine(QPointF(0, 0), QPointF(5, 5))
    p.end()
    assert before - sys.getrefcount(None) < 500, "this PySide6 build leaks references to None while painting"
