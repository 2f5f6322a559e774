"""QSettings in one place: the platform's store by default, an INI file when given (tests, --settings)."""
from __future__ import annotations

from PySide6.QtCore import QSettings


def make_settings(path: str | None = None) -> QSettings:
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings("llmrec", "llmrec-gui")
