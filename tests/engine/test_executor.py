"""The one executor interface (engine.jobs.executor): the same call, result, progress, cancel and errors
here, on a Store, in the store process (a real SQLite file) and in a child process."""
from __future__ import annotations

import pytest

from engine.errors import CancelledError, EngineError, InputError
from engine.jobs.cancel import CancelToken
from engine.jobs.executor import ChildProcess, InProcess, OnStore, on_store
from tests.engine import executor_targets as t


@pytest.fixture(scope="module")
def store_process(tmp_path_factory):
    from engine.store.process import StoreProcess
    sp = StoreProcess.open(str(tmp_path_factory.mktemp("ex") / "ex.db"))
    yield sp
    sp.close()


def cancel_on_first_progress():
    token = CancelToken()
    return token, (lambda _update: token.cancel())


def test_in_process_result_progress_cancel_and_errors():
    ex = InProcess()
    seen = []
    assert ex.submit(t.add, 2, 3, progress=seen.append) == 5 and seen == ["half"]
    assert ex.submit(t.plain_add, 2, 3) == 5                  # no progress/cancel given: none passed
    token, progress = cancel_on_first_progress()
    with pytest.raises(CancelledError):
        ex.submit(t.wait_for_cancel, progress=progress, cancel=token)
    with pytest.raises(InputError, match="bad input 'x'"):
        ex.submit(t.fail)


def test_on_store_passes_the_store_first(store):
    ex = on_store(store)
    assert isinstance(ex, OnStore)
    seen = []
    assert ex.submit(t.store_kind_and_count, 1, progress=seen.append) == ("Store", 1) and seen == ["counting"]
    token, progress = cancel_on_first_progress()
    with pytest.raises(CancelledError):
        ex.submit(t.wait_for_cancel, progress=progress, cancel=token)


def test_store_process_result_progress_cancel_and_errors(store_process):
    assert on_store(store_process) is store_process           # the handle is an executor itself
    seen = []
    assert store_process.submit(t.store_kind_and_count, 2, progress=seen.append) == ("Store", 2)
    assert seen == ["counting"]                                # the real Store was passed there, first
    token, progress = cancel_on_first_progress()
    with pytest.raises(CancelledError):
        store_process.submit(t.wait_for_cancel, progress=progress, cancel=token)
    with pytest.raises(InputError, match="bad input 'x'"):
        store_process.submit(t.fail)
    with pytest.raises(ValueError, match="boom"):
        store_process.submit(t.bug)
    assert store_process.submit(t.store_kind_and_count, 0) == ("Store", 0)   # still serving after errors


def test_child_process_result_progress_cancel_and_errors():
    ex = ChildProcess()
    seen = []
    assert ex.submit(t.add, 2, 3, progress=seen.append) == 5 and seen == ["half"]
    token, progress = cancel_on_first_progress()
    with pytest.raises(CancelledError):
        ex.submit(t.wait_for_cancel, progress=progress, cancel=token)
    with pytest.raises(EngineError, match="bad input 'x'"):
        ex.submit(t.fail)
    with pytest.raises(EngineError, match="ValueError: boom"):
        ex.submit(t.bug)


def test_a_child_that_ignores_cancel_is_terminated():
    token, progress = cancel_on_first_progress()
    with pytest.raises(CancelledError):
        ChildProcess(grace=0.2).submit(t.ignore_cancel, progress=progress, cancel=token)


def test_a_child_run_is_polled_without_waiting():
    """The non-blocking form an event loop uses: progress and the outcome come out of poll()."""
    import multiprocessing.connection as mpc
    seen = []
    run = ChildProcess().start(t.add, 1, 2, progress=seen.append)
    while run.poll() is None:
        mpc.wait([run.process.sentinel], timeout=0.05)
    assert run.poll() == ("done", 3) and seen == ["half"]
    run.process.join(30)
    assert run.reap()
