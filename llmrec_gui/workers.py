"""Run engine functions off the GUI thread: `Job(executor, fn, *args)` calls `executor.submit(fn, *args)`
(engine.jobs.executor) in a pool thread; the call site names where the work runs: `here()` (this
process), `on_store(store)` (the store process, the app's process holding no database connection, issue
8; the Store is passed first), or engine.jobs.executor.ChildProcess. Results come back as plain data
through queued signals (JobSignals, shared with child_jobs.ChildJob); workers never touch widgets.
Long TensorFlow work is watched from the GUI thread instead (child_jobs.py): it would hold a pool thread for hours."""
from __future__ import annotations

import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class JobSignals(QObject):
    """The five signals of any job (a worker's, a child process's). A worker's are emitted from its thread
    and delivered queued in the GUI thread."""
    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    done = Signal()  # always last, whatever the outcome


class Job(QRunnable):
    """`executor.submit(fn, *args, **kwargs)` in the thread pool. `fn` gets `progress=` and `cancel=` when
    `engine_style` (the executor bridges them to wherever it runs); the token also silences a cancelled job."""

    def __init__(self, executor, fn: Callable[..., Any], *args, engine_style: bool = False, **kwargs):
        super().__init__()
        from engine.jobs.cancel import CancelToken
        self.executor, self.fn, self.args, self.kwargs = executor, fn, args, kwargs
        self.signals = JobSignals()
        self.cancel_token = CancelToken()
        self.engine_style = engine_style
        self.setAutoDelete(False)

    def cancel(self) -> None:
        self.cancel_token.cancel()

    def run(self) -> None:  # worker thread
        from engine.errors import CancelledError, EngineError
        kwargs = dict(self.kwargs)
        if self.engine_style:
            kwargs.update(progress=self._progress, cancel=self.cancel_token)
        try:
            result = self.executor.submit(self.fn, *self.args, **kwargs)
        except CancelledError:
            self._emit("cancelled")
        except EngineError as exc:
            self._emit("failed", str(exc))
        except Exception as exc:  # a bug: show it, never crash the window
            if not self.cancel_token.cancelled:
                traceback.print_exc()
            self._emit("failed", f"{type(exc).__name__}: {exc}")
        else:
            self._emit("finished", result)
        self._emit("done")

    def _progress(self, update) -> None:
        self._emit("progress", update)

    def _emit(self, name: str, *args) -> None:
        """Emit unless the job was cancelled (the app may be closing: its receivers are going away)."""
        if self.cancel_token.cancelled and name not in ("cancelled", "done"):
            return
        try:
            getattr(self.signals, name).emit(*args)
        except RuntimeError:      # the signals object is already deleted at interpreter exit
            pass


def here():
    """Runs a job's function in this process (its pool thread)."""
    from engine.jobs.executor import InProcess
    return InProcess()


def on_store(store):
    """Runs a job's function on `store` (the store process's handle, or a Store in tests), the Store first."""
    from engine.jobs.executor import on_store as executor_for
    return executor_for(store)


_live: set[Job] = set()


def start(job: Job) -> Job:
    """Start `job` in the global pool; keeps a reference until it is done."""
    _live.add(job)
    job.signals.done.connect(lambda: _live.discard(job))
    QThreadPool.globalInstance().start(job)
    return job


def run_async(executor, fn: Callable[..., Any], *args, on_done: Callable[[Any], None] | None = None,
              on_error: Callable[[str], None] | None = None, on_progress: Callable[[Any], None] | None = None,
              engine_style: bool = False, owner=None, **kwargs) -> Job:
    """Convenience: `executor.submit(fn, *args, **kwargs)` in a worker; call back in the GUI thread.
    `owner`: the widget the answer is for; once Qt deleted it (its window closed) the answer is dropped."""
    job = Job(executor, fn, *args, engine_style=engine_style, **kwargs)
    if owner is not None:
        on_done, on_error = (None if f is None else _while_alive(owner, f) for f in (on_done, on_error))
    if on_done is not None:
        job.signals.finished.connect(on_done)
    if on_error is not None:
        job.signals.failed.connect(on_error)
    if on_progress is not None:
        job.signals.progress.connect(on_progress)
    return start(job)


def is_running(job: Job) -> bool:
    """True until the job's `done` has been delivered (in the GUI thread)."""
    return job in _live


def running() -> list[Job]:
    """The jobs started and not yet done."""
    return list(_live)


def cancel_all() -> None:
    """Ask every running job to stop (on close): none reports back after this."""
    for job in list(_live):
        job.cancel()


def wait_all(msecs: int = 30000) -> bool:
    """Wait for the pool's jobs (used at exit and in tests)."""
    return QThreadPool.globalInstance().waitForDone(msecs)


def _while_alive(owner, callback: Callable[[Any], None]) -> Callable[[Any], None]:
    return lambda value: callback(value) if alive(owner) else None


def alive(widget) -> bool:
    """False once Qt deleted `widget` (a window closed): what arrives later for it through a lambda Qt cannot
    disconnect (a state signal, a store answer: run_async's `owner`) is dropped, not "already deleted"."""
    from shiboken6 import isValid
    return widget is not None and isValid(widget)
