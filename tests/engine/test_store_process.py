"""The store process (engine.store.process): calls run there with the real Store; errors keep
their type; progress and cancel cross the pipe; what cannot run there is refused clearly."""
from __future__ import annotations

import os
import signal
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from engine.errors import CancelledError, NotFoundError
from engine.jobs.cancel import CancelToken
from engine.store.process import StoreProcess, StoreProcessGone
from tests.engine import store_calls


@pytest.fixture(scope="module")
def remote(tmp_path_factory):
    store = StoreProcess.open(str(tmp_path_factory.mktemp("sp") / "sp.db"))
    yield store
    store.close()


def test_calls_errors_progress_and_cancel(remote):
    assert remote.call(store_calls.count_datasets) == 0
    assert remote.display_name.endswith("sp.db") and remote.is_sqlite
    with pytest.raises(NotFoundError, match="no dataset 'x'"):
        remote.call(store_calls.fail_with_not_found)
    token, seen = CancelToken(), []

    def progress(update):
        seen.append(update)
        token.cancel()

    with pytest.raises(CancelledError):
        remote.call(store_calls.report_then_wait_for_cancel, progress=progress, cancel=token)
    assert seen == ["started"]
    with pytest.raises(TypeError, match="module-level"):
        remote.call(lambda store: 1)
    assert remote.call(store_calls.count_datasets) == 0      # still serving


def test_a_dead_store_process_is_an_error_not_a_hang(tmp_path):
    store = StoreProcess.open(str(tmp_path / "d.db"))
    with pytest.raises(StoreProcessGone, match=r"the database process stopped \(exit code 3\)"):
        store.call(store_calls.die)
    with pytest.raises(StoreProcessGone, match=r"stopped \(exit code 3\)"):
        store.call(store_calls.count_datasets)
    assert not store.alive
    store.close()


def _state(pid: int) -> str | None:
    """The process's state letter in /proc ('Z' for a zombie), None once it is gone (reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return None


def _bounded(fn, *args, limit: float = 60.0):
    """`fn(*args)` in a thread: its result or its exception; a hang fails the test (a guard, not a timing)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args).result(timeout=limit)


def test_a_killed_idle_store_process_is_noticed_reaped_and_every_call_fails_clearly(tmp_path):
    """kill -9 while nothing is asked: the handle notices without a call (its reader waits on the pipe and
    the process sentinel), reaps the child (no <defunct>), tells its listeners, and a later call raises
    StoreProcessGone at once."""
    store = StoreProcess.open(str(tmp_path / "k.db"))
    try:
        assert store.call(store_calls.count_datasets) == 0
        heard, told = [], threading.Event()
        store.on_gone(lambda msg: (heard.append(msg), told.set()))
        pid = store.pid
        os.kill(pid, signal.SIGKILL)
        assert told.wait(60), "the death of an idle store process went unnoticed"
        assert heard == ["the database process stopped (exit code -9)"]
        assert store.wait_gone(60) and store.gone == heard[0] and not store.alive
        assert store.process.exitcode == -9 and _state(pid) is None      # reaped: no zombie
        with pytest.raises(StoreProcessGone, match=r"^the database process stopped \(exit code -9\)$"):
            _bounded(store.call, store_calls.count_datasets)
        late = []
        store.on_gone(late.append)                                         # a listener after the fact hears it too
        assert late == heard
    finally:
        _bounded(store.close)


def test_a_call_in_flight_when_the_store_process_is_killed_fails_clearly(tmp_path):
    """kill -9 while a call runs there: the waiting caller gets StoreProcessGone (the pipe's EOF), not a hang."""
    store = StoreProcess.open(str(tmp_path / "f.db"))
    started = threading.Event()
    try:
        with ThreadPoolExecutor(1) as pool:
            running = pool.submit(store.call, store_calls.report_then_wait_for_cancel,
                                  progress=lambda _u: started.set(), cancel=CancelToken())
            assert started.wait(60)
            pid = store.pid
            os.kill(pid, signal.SIGKILL)
            with pytest.raises(StoreProcessGone, match=r"stopped \(exit code -9\)"):
                running.result(timeout=60)
        assert _state(pid) is None and not store.alive
        again = StoreProcess.open(store.url, artifacts=store.artifact_root)   # the same database, reopened
        try:
            assert again.pid != pid and again.alive and again.artifact_root == store.artifact_root
            assert again.call(store_calls.count_datasets) == 0
        finally:
            again.close()
    finally:
        _bounded(store.close)


def test_opening_a_non_database_fails_in_the_caller(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not a database" * 100)
    with pytest.raises(Exception, match="not a database|file is not"):
        StoreProcess.open(str(bad))


def test_large_results_of_concurrent_calls_come_back_whole_and_to_their_caller(remote):
    """Results travel as a header then their pickle's raw bytes: several concurrent multi-MiB results
    each reach the call that asked for them, intact, between small replies."""
    import threading

    import numpy as np
    got: dict[int, tuple] = {}

    def ask(seed: int) -> None:
        got[seed] = remote.call(store_calls.big_result, seed, 500_000 + seed)

    threads = [threading.Thread(target=ask, args=(s,)) for s in range(6)]
    for t in threads:
        t.start()
    small = [remote.call(store_calls.count_datasets) for _ in range(5)]
    for t in threads:
        t.join()
    assert small == [0] * 5 and sorted(got) == list(range(6))
    for seed, (tag, arr) in got.items():
        assert tag == seed and arr.shape == (500_000 + seed,) and np.all(arr == seed)
