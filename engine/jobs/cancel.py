"""What long engine work reports and how it is cancelled. Knows nothing of threads or Qt."""
from __future__ import annotations

import threading
from typing import Any, Callable, Protocol

from engine.errors import CancelledError


class CancelToken:
    """Set by the caller (GUI, CLI, test); checked by the long job between chunks."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise CancelledError()


class Progress(Protocol):
    """A progress callback: called with a plain dataclass describing the step reached."""

    def __call__(self, update: Any) -> None: ...


ProgressCallback = Callable[[Any], None]


def no_progress(_update: Any) -> None:
    """Default progress callback: drop updates."""


def check(cancel: CancelToken | None) -> None:
    """Raise CancelledError when `cancel` is set (None means never cancelled)."""
    if cancel is not None:
        cancel.raise_if_cancelled()
