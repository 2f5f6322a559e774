"""TensorFlow work in a CHILD process (multiprocessing 'spawn'): training and the device probe.
A thread in the GUI process would hold the GIL during TF import and graph tracing and freeze the
window (ARCHITECTURE.md); here the GUI only polls a queue with a QTimer. Cancel is a flag in shared
memory (a lock-free RawValue: setting it never waits on the child, even a stopped or dead one, unlike
a multiprocessing.Event whose set() takes a lock the child may hold) that the child turns into its
CancelToken; terminate() is the last resort. The child opens its own Store."""
from __future__ import annotations

import multiprocessing as mp
import os
import queue as queue_mod

from PySide6.QtCore import QObject, QTimer, Signal

from engine.runs.child_tasks import CHILD_NICE, child_main

POLL_MS = 50
GRACE_MS = 15000   # after Cancel, how long the child gets to stop by itself before terminate()


# ---- the GUI side ------------------------------------------------------------------------

class ChildJob(QObject):
    """Supervises one child process; same signals as workers.Job. Created and polled in the GUI thread."""
    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    done = Signal()

    def __init__(self, target: str, *args, parent=None):
        super().__init__(parent)
        ctx = mp.get_context("spawn")
        self._queue = ctx.Queue()
        self._cancel = ctx.RawValue("b", 0)
        self.process = ctx.Process(target=child_main, args=(target, args, self._queue, self._cancel), daemon=True)
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        self._ended = False
        self.cancel_requested = False

    def start(self) -> "ChildJob":
        self.process.start()
        try:  # lowest priority from its first instruction (its own imports compete with the window too)
            os.setpriority(os.PRIO_PROCESS, self.process.pid, CHILD_NICE)
        except (AttributeError, OSError):
            pass
        self._timer.start()
        return self

    @property
    def running(self) -> bool:
        return not self._ended

    def cancel(self) -> None:
        """Ask the child to stop at its next check; terminate it if it has not after GRACE_MS."""
        if self._ended or self.cancel_requested:
            return
        self.cancel_requested = True
        self._cancel.value = 1
        QTimer.singleShot(GRACE_MS, self._terminate_if_alive)

    def _terminate_if_alive(self) -> None:
        if not self._ended and self.process.is_alive():
            self.process.terminate()

    def _poll(self) -> None:
        if self._ended:  # only reaping the finished child now, without ever blocking
            if not self.process.is_alive():
                self.process.join(0)
                self._timer.stop()
            return
        dead = not self.process.is_alive()
        for _ in range(200):  # bounded work per tick
            try:
                kind, payload = self._queue.get_nowait()   # never waits: this runs on the GUI thread
            except queue_mod.Empty:
                break
            if kind == "progress":
                self.progress.emit(payload)
                continue
            self._ended = True
            if kind == "done":
                self.finished.emit(payload)
            elif kind == "cancelled":
                self.cancelled.emit()
            else:
                self.failed.emit(payload)
            self.done.emit()
            return
        if dead:
            self._ended = True
            if self.cancel_requested:
                self.cancelled.emit()
            else:
                self.failed.emit(f"the worker process stopped unexpectedly (exit code {self.process.exitcode})")
            self.done.emit()

    def shutdown(self, grace: float = 3.0) -> None:
        """Stop the child now (app exit): ask, wait `grace` seconds, then terminate."""
        if not self._ended:
            self._cancel.value = 1
            self.process.join(timeout=grace)
            if self.process.is_alive():
                self.process.terminate()
                self.process.join(timeout=3)
            self._ended = True
            self._timer.stop()
