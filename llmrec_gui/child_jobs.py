"""TensorFlow work in a CHILD process (multiprocessing 'spawn'): training and the device probe.
A thread in the GUI process would hold the GIL during TF import and graph tracing and freeze the
window (ARCHITECTURE.md); here the GUI only polls a queue with a QTimer. Cancel is an Event the
child turns into its CancelToken; terminate() is the last resort. The child opens its own Store."""
from __future__ import annotations

import multiprocessing as mp
import queue as queue_mod
import threading
import traceback

from PySide6.QtCore import QObject, QTimer, Signal

POLL_MS = 50
GRACE_MS = 15000   # after Cancel, how long the child gets to stop by itself before terminate()
# The child runs at the lowest CPU priority: whenever the window needs the CPU it gets it first
# (measured: nice 10 still let a starting TensorFlow stall the GUI thread ~2 s on a busy 2-core box).
CHILD_NICE = 19


# ---- what runs in the child ------------------------------------------------------------

def _child_main(target: str, args: tuple, out: "mp.Queue", cancel_event) -> None:
    import importlib
    import os
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if hasattr(os, "nice"):
        try:
            os.nice(CHILD_NICE)  # background work: the window gets the CPU first
        except OSError:
            pass
    from engine.errors import CancelledError, EngineError
    from engine.jobs import CancelToken
    token = CancelToken()
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            if cancel_event.wait(0.1):
                token.cancel()
                return

    threading.Thread(target=watch, daemon=True).start()
    module, name = target.split(":")
    fn = getattr(importlib.import_module(module), name)
    try:
        result = fn(*args, progress=lambda u: out.put(("progress", u)), cancel=token)
    except CancelledError:
        out.put(("cancelled", None))
    except EngineError as exc:
        out.put(("error", str(exc)))
    except BaseException as exc:  # noqa: BLE001 - reported to the GUI, never a silent death
        traceback.print_exc()
        out.put(("error", f"{type(exc).__name__}: {exc}"))
    else:
        out.put(("done", result))
    finally:
        stop.set()


def train_in_child(config, store_url: str, progress=None, cancel=None):
    """The child's training entry: open our own Store, run engine.training.run_training."""
    from engine.storage import open_store
    from engine.training import run_training
    store = open_store(store_url)
    try:
        return run_training(config, store, progress=progress, cancel=cancel)
    finally:
        store.close()


def probe_devices(progress=None, cancel=None) -> list[tuple[str, str]]:
    """The devices TensorFlow sees (imports TensorFlow: only ever in a child)."""
    from engine.training import available_devices
    return available_devices()


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
        self._cancel = ctx.Event()
        self.process = ctx.Process(target=_child_main, args=(target, args, self._queue, self._cancel), daemon=True)
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        self._ended = False
        self.cancel_requested = False

    def start(self) -> "ChildJob":
        self.process.start()
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
        self._cancel.set()
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
                kind, payload = self._queue.get(timeout=0.2) if dead else self._queue.get_nowait()
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

    def shutdown(self) -> None:
        """Stop the child now (app exit)."""
        if not self._ended:
            self._cancel.set()
            self.process.join(timeout=3)
            if self.process.is_alive():
                self.process.terminate()
                self.process.join(timeout=3)
            self._ended = True
            self._timer.stop()
