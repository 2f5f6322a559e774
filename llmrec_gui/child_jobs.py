"""TensorFlow work in a CHILD process (engine.jobs.executor.ChildRun: spawn, lowest priority, cancel by a
lock-free shared flag): training, catalogue encoding, index builds and the device probe. A thread in the
GUI process would hold the GIL during TF import and graph tracing and freeze the window (docs/architecture.md);
here the GUI thread only polls the run with a QTimer (never waiting), and no pool thread is held for the
hours a training takes. The signals are workers.JobSignals'. The child opens its own Store."""
from __future__ import annotations

from PySide6.QtCore import QTimer

from llmrec_gui.workers import JobSignals

POLL_MS = 50
GRACE_MS = 15000   # after Cancel, how long the child gets to stop by itself before terminate()


class ChildJob(JobSignals):
    """Supervises `fn(*args, progress=, cancel=)` in one child process (`fn`: a module-level function).
    Created and polled in the GUI thread."""

    def __init__(self, fn, *args, parent=None):
        super().__init__(parent)
        from engine.jobs.executor import ChildRun
        self.child = ChildRun(fn, args, {}, progress=self.progress.emit)
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        self._ended = False

    @property
    def process(self):
        return self.child.process

    @property
    def cancel_requested(self) -> bool:
        return self.child.cancel_requested

    def start(self) -> "ChildJob":
        self.child.start()
        self._timer.start()
        return self

    @property
    def running(self) -> bool:
        return not self._ended

    def cancel(self) -> None:
        """Ask the child to stop at its next check (returns at once); terminate it if it has not after GRACE_MS."""
        if self._ended or self.child.cancel_requested:
            return
        self.child.cancel()
        QTimer.singleShot(GRACE_MS, self._terminate_if_alive)

    def _terminate_if_alive(self) -> None:
        if not self._ended:
            self.child.terminate()

    def _poll(self) -> None:
        if self._ended:  # only reaping the finished child now, without ever blocking
            if self.child.reap():
                self._timer.stop()
            return
        outcome = self.child.poll()
        if outcome is None:
            return
        self._ended = True
        kind, payload = outcome
        if kind == "done":
            self.finished.emit(payload)
        elif kind == "cancelled":
            self.cancelled.emit()
        else:
            self.failed.emit(payload)
        self.done.emit()

    def shutdown(self, grace: float = 3.0) -> None:
        """Stop the child now (app exit): ask, wait `grace` seconds, then terminate."""
        if not self._ended:
            self.child.stop(grace)
            self._ended = True
            self._timer.stop()
