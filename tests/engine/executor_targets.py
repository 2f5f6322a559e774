"""Module-level functions the executor tests run here, in the store process and in a child process
(they must pickle by name)."""
from __future__ import annotations


def add(a, b, progress=None, cancel=None):
    if progress is not None:
        progress("half")
    return a + b


def plain_add(a, b):
    """No progress/cancel parameters: executors pass them only when given."""
    return a + b


def store_kind_and_count(store, extra, progress=None, cancel=None):
    """The Store it was given first, and what it reads there."""
    from engine.store import repository as repo
    if progress is not None:
        progress("counting")
    with store.session() as s:
        return type(store).__name__, len(repo.list_datasets(s)) + extra


def wait_for_cancel(*_args, progress=None, cancel=None):
    progress("started")
    while not cancel.cancelled:
        cancel._event.wait(0.05)
    cancel.raise_if_cancelled()


def ignore_cancel(progress=None, cancel=None):
    """Never checks its token: only terminate() stops it."""
    import threading
    progress("started")
    threading.Event().wait()


def fail(*_args, progress=None, cancel=None):
    from engine.errors import InputError
    raise InputError("bad input 'x'")


def bug(*_args, progress=None, cancel=None):
    raise ValueError("boom")
