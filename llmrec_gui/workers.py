"""Run engine functions off the GUI thread. Workers send plain data back through queued signals;
they never touch widgets. TensorFlow work goes to a child process (see child_jobs.py).

Database work: the app's store is an engine.store.process.StoreProcess (the app's process
holds no database connection, issue 8), so a job whose arguments include the store runs its function
in the store process; the worker thread waits for the reply, progress and cancel are bridged."""
from __future__ import annotations

import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class JobSignals(QObject):
    """Signals of one job. Emitted from the worker thread, delivered queued in the GUI thread."""
    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    done = Signal()  # always last, whatever the outcome


class Job(QRunnable):
    """A function call in the thread pool. `fn` gets `progress=` and `cancel=` when `engine_style`."""

    def __init__(self, fn: Callable[..., Any], *args, engine_style: bool = False, **kwargs):
        super().__init__()
        from engine.jobs.cancel import CancelToken
        self.fn, self.args, self.kwargs = fn, args, kwargs
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
            remote = _store_process_in(self.args, kwargs)
            result = remote.run(self.fn, *self.args, **kwargs) if remote is not None else self.fn(*self.args, **kwargs)
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


def _store_process_in(args: tuple, kwargs: dict):
    from engine.store.process import StoreProcess
    return next((a for a in (*args, *kwargs.values()) if isinstance(a, StoreProcess)), None)


_live: set[Job] = set()


def start(job: Job) -> Job:
    """Start `job` in the global pool; keeps a reference until it is done."""
    _live.add(job)
    job.signals.done.connect(lambda: _live.discard(job))
    QThreadPool.globalInstance().start(job)
    return job


def run_async(fn: Callable[..., Any], *args, on_done: Callable[[Any], None] | None = None,
              on_error: Callable[[str], None] | None = None, on_progress: Callable[[Any], None] | None = None,
              engine_style: bool = False, **kwargs) -> Job:
    """Convenience: run `fn(*args, **kwargs)` in a worker and call back in the GUI thread."""
    job = Job(fn, *args, engine_style=engine_style, **kwargs)
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
