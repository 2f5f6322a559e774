"""Targets for child-process tests (no Qt: the child imports this module)."""
from __future__ import annotations


def wait_for_cancel(progress=None, cancel=None):
    """Report once, then wait until cancelled (raises CancelledError)."""
    progress("started")
    while not cancel.cancelled:
        cancel._event.wait(0.05)
    cancel.raise_if_cancelled()
