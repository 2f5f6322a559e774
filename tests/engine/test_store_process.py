"""The store process (engine.storage.store_process): calls run there with the real Store; errors keep
their type; progress and cancel cross the pipe; what cannot run there is refused clearly."""
from __future__ import annotations

import pytest

from engine.errors import CancelledError, NotFoundError
from engine.jobs import CancelToken
from engine.storage.store_process import StoreProcess, StoreProcessError
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
    with pytest.raises(StoreProcessError, match="stopped unexpectedly"):
        store.call(store_calls.die)
    with pytest.raises(StoreProcessError):
        store.call(store_calls.count_datasets)
    store.close()


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
