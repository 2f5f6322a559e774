"""Module-level functions the store-process tests run there (they must pickle by name)."""
from __future__ import annotations


def count_datasets(store) -> int:
    from engine.store import repository as repo
    with store.session() as s:
        return len(repo.list_datasets(s))


def fail_with_not_found(store):
    from engine.errors import NotFoundError
    raise NotFoundError("no dataset 'x' in this database")


def report_then_wait_for_cancel(store, progress=None, cancel=None):
    progress("started")
    while not cancel.cancelled:
        cancel._event.wait(0.05)
    cancel.raise_if_cancelled()


def die(store):
    import os
    os._exit(3)


def big_result(store, seed: int, n: int):
    """A result far over the pipe's small-message size (sent as its own bytes), tagged by seed."""
    import numpy as np
    return seed, np.full(n, seed, dtype=np.int32)
