"""Tooltips that wrap (issue 22: "tooltips running off screen"). Qt shows a plain-text tooltip on one line
however long; as rich text it word-wraps at a readable width. One application-wide event filter turns every
long plain tooltip (a widget's own, or an item view's cell's) into wrapped rich text as it is shown, so no
widget has to remember to."""
from __future__ import annotations

import html

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractItemView, QToolTip, QWidget

WRAP_AT = 70     # characters: shorter tooltips stay as they are


def wrapped(text: str) -> str:
    """A plain tooltip as rich text (which Qt word-wraps), its line breaks kept."""
    return "<qt>" + html.escape(text).replace("\n", "<br>") + "</qt>"


def _needs_wrap(text) -> bool:
    return isinstance(text, str) and len(text) > WRAP_AT and not text.lstrip().startswith("<")


class WrappedToolTips(QObject):
    def eventFilter(self, obj, event) -> bool:
        if event.type() != QEvent.Type.ToolTip or not isinstance(obj, QWidget):
            return False
        text = obj.toolTip()
        view = obj.parent()
        if not text and isinstance(view, QAbstractItemView) and obj is view.viewport():
            index = view.indexAt(event.pos())
            text = index.data(Qt.ItemDataRole.ToolTipRole) if index.isValid() else None
        if not _needs_wrap(text):
            return False
        QToolTip.showText(event.globalPos(), wrapped(text), obj)
        return True


def install(app) -> WrappedToolTips:
    """Wrap long tooltips everywhere in `app` (keep the returned filter alive)."""
    f = WrappedToolTips(app)
    app.installEventFilter(f)
    return f
