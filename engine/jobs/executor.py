"""ONE way to run work somewhere: `executor.submit(fn, *args, progress=None, cancel=None, **kwargs)`.

The call blocks in whatever thread makes it and returns `fn`'s result or raises its error (a
CancelledError when cancelled). Where the work runs is chosen by the caller, by the executor it
picks, never by looking at the arguments:

- `InProcess()`: here, `fn(*args, ...)`.
- `OnStore(store)` / a `StoreProcess` handle: `fn(store, *args, ...)` with the database's Store as its
  FIRST argument (in this process for a plain Store; in the store process for a StoreProcess).
- `ChildProcess()`: in a fresh "spawn" child at the lowest CPU priority (TensorFlow work: its imports
  and tracing never hold this process's GIL). `fn` must be a module-level function (it pickles by name).

`progress` and `cancel` are passed to `fn` only when the caller gives them (so plain functions run
too); bridging them across a process boundary is each executor's business and nobody else's."""
from __future__ import annotations

import multiprocessing as mp
import os
import queue as queue_mod
import threading
import time
import traceback
from typing import Any, Callable, Protocol

from engine.errors import CancelledError, EngineError
from engine.jobs.cancel import CancelToken

# The child runs at the lowest CPU priority, so an app's window gets the CPU first whenever it needs it
# (measured on a busy 2-core box: at nice 0 a starting TensorFlow child stalled the GUI thread ~2 s).
CHILD_NICE = 19
GRACE_S = 15.0     # after cancel, how long a child gets to stop by itself before terminate()
POLL_S = 0.05


class Executor(Protocol):
    def submit(self, fn: Callable[..., Any], *args, progress=None, cancel=None, **kwargs) -> Any:
        """`fn`'s result, computed wherever this executor runs work; blocks the calling thread."""


def engine_kwargs(kwargs: dict, progress, cancel) -> dict:
    """`kwargs` plus `progress=` / `cancel=` where given."""
    out = dict(kwargs)
    if progress is not None:
        out["progress"] = progress
    if cancel is not None:
        out["cancel"] = cancel
    return out


class InProcess:
    """Runs `fn` right here, in the calling thread."""

    def submit(self, fn, *args, progress=None, cancel=None, **kwargs):
        return fn(*args, **engine_kwargs(kwargs, progress, cancel))


class OnStore:
    """Runs `fn(store, *args)` here on a Store this process holds (the CLI, tests); the store process's
    handle (engine.store.process.StoreProcess) has the same `submit`."""

    def __init__(self, store):
        self.store = store

    def submit(self, fn, *args, progress=None, cancel=None, **kwargs):
        return fn(self.store, *args, **engine_kwargs(kwargs, progress, cancel))


def on_store(store) -> Executor:
    """The executor that runs work on `store`: its own `submit` when it has one (a StoreProcess), else OnStore."""
    return store if hasattr(store, "submit") else OnStore(store)


# ---- child processes ---------------------------------------------------------------------------

class ChildRun:
    """One function running in a child process, watched without ever blocking: `poll()` returns None
    while it runs, then ("done", result) / ("cancelled", None) / ("error", message). Progress goes to the
    `progress` callable from inside `poll()` (in the polling thread). Cancel is a lock-free shared flag
    (setting it never waits on the child, even a stopped or dead one); `terminate()` is the last resort."""

    def __init__(self, fn, args: tuple, kwargs: dict, progress=None):
        ctx = mp.get_context("spawn")
        self._queue = ctx.Queue()
        self._flag = ctx.RawValue("b", 0)
        self.progress = progress
        self.process = ctx.Process(target=child_main, args=(fn, args, kwargs, self._queue, self._flag), daemon=True)
        self.outcome: tuple | None = None
        self.cancel_requested = False

    def start(self) -> "ChildRun":
        self.process.start()
        try:  # lowest priority from its first instruction (its own imports compete with the caller too)
            os.setpriority(os.PRIO_PROCESS, self.process.pid, CHILD_NICE)
        except (AttributeError, OSError):
            pass
        return self

    def cancel(self) -> None:
        """Ask the child to stop at its next check (returns at once)."""
        self.cancel_requested = True
        self._flag.value = 1

    def terminate(self) -> None:
        if self.process.is_alive():
            self.process.terminate()

    def poll(self, max_messages: int = 200):
        """What the child reported since the last poll; its outcome once it ended (bounded work, no wait)."""
        if self.outcome is not None or self._queue is None:
            return self.outcome
        dead = not self.process.is_alive()
        for _ in range(max_messages):
            try:
                kind, payload = self._queue.get_nowait()
            except queue_mod.Empty:
                break
            if kind == "progress":
                if self.progress is not None:
                    self.progress(payload)
                continue
            self.outcome = (kind, payload)
            return self.outcome
        if dead:
            self.outcome = (("cancelled", None) if self.cancel_requested else
                            ("error", f"the worker process stopped unexpectedly (exit code {self.process.exitcode})"))
        return self.outcome

    def reap(self) -> bool:
        """Join the ended child without waiting; True once it is gone (its queue is released then)."""
        if self.process.is_alive():
            return False
        self.process.join(0)
        self.release()
        return True

    def release(self) -> None:
        """Close the queue of an ended child: its named semaphores are unlinked now, not left to the
        interpreter's exit (an app leaving by os._exit would leave them to the resource tracker, which
        then warns of "leaked semaphore objects")."""
        if self.process.is_alive() or self._queue is None:
            return
        self._queue.close()
        self._queue.join_thread()
        self._queue = None

    def stop(self, grace: float = 3.0) -> None:
        """Stop it now (an app closing): ask, wait `grace` seconds, then terminate."""
        self.cancel()
        self.process.join(timeout=grace)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=3)
        self.release()


class ChildProcess:
    """Runs `fn(*args)` in a child process; the calling thread waits (polling), bridging progress back
    and the `cancel` token to the child's own token; a child that ignores cancel is terminated after `grace`."""

    def __init__(self, grace: float = GRACE_S):
        self.grace = grace

    def start(self, fn, *args, progress=None, **kwargs) -> ChildRun:
        """The non-blocking form (an event loop polls the run itself): the child gets `progress` and `cancel`."""
        return ChildRun(fn, args, kwargs, progress).start()

    def submit(self, fn, *args, progress=None, cancel=None, **kwargs):
        run = ChildRun(fn, args, kwargs, progress).start()
        cancelled_at = None
        try:
            while (outcome := run.poll()) is None:
                if cancel is not None and cancel.cancelled and cancelled_at is None:
                    run.cancel()
                    cancelled_at = time.monotonic()
                if cancelled_at is not None and time.monotonic() - cancelled_at > self.grace:
                    run.terminate()
                run.process.join(POLL_S)
        finally:
            if run.process.is_alive():     # an error here (KeyboardInterrupt): leave no child behind
                run.stop(grace=1.0)
            run.process.join(5)
            run.release()
        return outcome_value(outcome)


def outcome_value(outcome: tuple):
    """A ChildRun's outcome as a result or the error it stands for."""
    kind, payload = outcome
    if kind == "done":
        return payload
    if kind == "cancelled":
        raise CancelledError()
    raise EngineError(payload)


def child_main(fn, args: tuple, kwargs: dict, out, cancel_flag) -> None:
    """Entry of the child: run `fn(*args, progress=..., cancel=...)` and report over `out`; a thread turns the
    parent's flag (shared memory) into the child's CancelToken."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if hasattr(os, "setpriority"):
        try:  # the parent sets it right after the start too; this covers platforms where it cannot
            os.setpriority(os.PRIO_PROCESS, 0, max(CHILD_NICE, os.getpriority(os.PRIO_PROCESS, 0)))
        except OSError:
            pass
    token = CancelToken()
    stop = threading.Event()

    def watch():
        while not stop.wait(0.1):
            if cancel_flag.value:
                token.cancel()
                return

    threading.Thread(target=watch, daemon=True).start()
    try:
        result = fn(*args, progress=lambda u: out.put(("progress", u)), cancel=token, **kwargs)
    except CancelledError:
        out.put(("cancelled", None))
    except EngineError as exc:
        out.put(("error", str(exc)))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, never a silent death
        traceback.print_exc()
        out.put(("error", f"{type(exc).__name__}: {exc}"))
    else:
        out.put(("done", result))
    finally:
        stop.set()
