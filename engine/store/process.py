"""The database in a process of its own: `StoreProcess` is a handle whose process holds NO database
connection; a long-lived child process (multiprocessing "spawn") owns the real `Store`.

Why (issue 8, docs/architecture.md): SQLite's locks are POSIX advisory locks, held per
process and per file, and closing *any* descriptor on the database file drops all of the process's
locks on it. A desktop app cannot control what opens its files (Qt's QMimeDatabase sniffs every file
a QFileDialog lists, including the -wal and -shm files). With a connection in the app's process,
another process could then checkpoint and delete the -wal file the app still writes into: lost
writes, later a corrupt database. Here nothing that runs in the app's process can drop a lock
that matters, because the app's process holds none: the store process opens no file dialogs and
runs only engine code.

Use: `store = StoreProcess.open(path)`; `store.submit(fn, *args, progress=None, cancel=None, **kwargs)` runs
`fn(store, *args, **kwargs)` in the store process, the real Store passed FIRST (the handle is an executor:
engine.jobs.executor; fn must be a module-level function so it pickles); `store.call` is the same call.
A `progress` callable and a `cancel` token are bridged (here and nowhere else). `store.run(fn, *args)`,
which replaces this handle wherever it appears among the arguments, stays for engine.runs.loaded. The caller's thread blocks on the reply (never call it on a GUI
thread). Results and errors come back as plain data; exceptions keep their type where they pickle.

When the store process dies (killed, crashed) the handle's reader thread sees it at once, idle or not: it
waits on the pipe AND the process's sentinel (`multiprocessing.connection.wait`), so neither a pending
call nor an idle app goes unnoticed. It then reaps the child (no zombie), fails every call in flight
and every later call with `StoreProcessGone` ("the database process stopped (exit code -9)"), and
calls the `on_gone` callbacks (the app shows a banner and offers to reopen). A new handle on the same
database: `StoreProcess.open(old.url, artifacts=old.artifact_root)`.
"""
from __future__ import annotations

import itertools
import multiprocessing as mp
import multiprocessing.connection as mpc
import pickle
import queue
import threading
import traceback
from dataclasses import dataclass
from typing import Any, Callable

from engine.errors import EngineError
from engine.jobs.cancel import CancelToken
from engine.jobs.executor import engine_kwargs
from engine.store.db import open_store

_STORE = "<<llmrec store>>"
_PROGRESS = "<<llmrec progress>>"
_CANCEL = "<<llmrec cancel>>"
POLL_S = 0.1


class StoreProcessError(EngineError):
    """The store process died or could not be reached."""


class StoreProcessGone(StoreProcessError):
    """The store process stopped while the app used it (killed, crashed): every call fails with this
    until the app opens a new one."""


@dataclass(frozen=True)
class StoreFacts:
    """What the app may know about the open database without a connection."""
    url: str
    display_name: str
    is_sqlite: bool
    artifact_root: str
    database_id: str


class StoreProcess:
    """Client handle of the store process (thread-safe: many worker threads may call at once)."""

    def __init__(self, conn, process, facts: StoreFacts):
        self._conn = conn
        self.process = process
        self.facts = facts
        self._send_lock = threading.Lock()
        self._pending: dict[int, queue.Queue] = {}
        self._pending_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._closed = False
        self.gone: str | None = None          # why the process stopped, once it did (not by close())
        self._gone_event = threading.Event()  # set once `gone` is known and the calls in flight failed
        self._on_gone: list[Callable[[str], None]] = []
        self._reader = threading.Thread(target=self._read_loop, name="store-process-reader", daemon=True)
        self._reader.start()

    # ---- what the app may read without a connection ----------------------------------
    url = property(lambda self: self.facts.url)
    display_name = property(lambda self: self.facts.display_name)
    is_sqlite = property(lambda self: self.facts.is_sqlite)
    artifact_root = property(lambda self: self.facts.artifact_root)
    database_id = property(lambda self: self.facts.database_id)

    # ---- start / stop ----------------------------------------------------------------
    @classmethod
    def open(cls, path_or_url: str | None = None, *, artifacts: str | None = None,
             timeout: float = 600.0) -> "StoreProcess":
        """Start the store process and open (create, migrate) the database there. Blocks until it is
        open; raises the opening error (e.g. not a database) in this process. `artifacts`: the model
        files' folder (default: engine.store.db's rule; a reopen passes the old handle's)."""
        ctx = mp.get_context("spawn")
        here, there = ctx.Pipe()
        proc = ctx.Process(target=serve, args=(there, path_or_url, artifacts), name="llmrec-store", daemon=True)
        proc.start()
        there.close()
        try:
            if not here.poll(timeout):
                raise StoreProcessError("the database process did not start in time")
            kind, payload = here.recv()
        except (EOFError, OSError):
            proc.join(5)
            raise StoreProcessError(f"the database process stopped while opening (exit code {proc.exitcode})") from None
        except BaseException:
            proc.terminate()
            raise
        if kind != "ready":
            here.close()
            proc.join(5)
            raise _rebuild(payload)
        return cls(here, proc, payload)

    def close(self, timeout: float = 10.0) -> None:
        """Ask the store process to finish its running calls and exit; terminate it after `timeout`."""
        if self._closed:
            return
        self._closed = True
        try:
            with self._send_lock:
                self._conn.send(("close",))
        except (OSError, ValueError):
            pass
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)

    @property
    def alive(self) -> bool:
        return not self._closed and self.gone is None and self.process.is_alive()

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def on_gone(self, callback: Callable[[str], None]) -> None:
        """Call `callback(message)` once if the process stops without close() (from the handle's reader
        thread: a GUI marshals it to its own thread); at once if it already did."""
        with self._pending_lock:
            if not self._gone_event.is_set():
                self._on_gone.append(callback)
                return
        if self.gone is not None:
            callback(self.gone)

    def wait_gone(self, timeout: float | None = None) -> bool:
        """Block until the process is known to have stopped (or was closed); True if so."""
        return self._gone_event.wait(timeout)

    # ---- calls -----------------------------------------------------------------------
    def submit(self, fn: Callable[..., Any], *args, progress=None, cancel=None, **kwargs) -> Any:
        """`fn(store, *args, **kwargs)` in the store process, the real Store first (the Executor interface);
        `progress` and `cancel` reach `fn` when given."""
        return self._request(fn, args, engine_kwargs(kwargs, progress, cancel), with_store=True)

    def call(self, fn: Callable[..., Any], *args, **kwargs) -> Any:
        """`fn(store, *args, **kwargs)` in the store process (`submit`)."""
        return self._request(fn, args, kwargs, with_store=True)

    def run(self, fn: Callable[..., Any], *args, **kwargs) -> Any:
        """`fn(*args, **kwargs)` in the store process, this handle replaced by the real Store wherever it is
        an argument (engine.runs.loaded; new code uses `submit`)."""
        args = tuple(_STORE if a is self else a for a in args)
        kwargs = {k: (_STORE if v is self else v) for k, v in kwargs.items()}
        return self._request(fn, args, kwargs, with_store=False)

    def _request(self, fn, args: tuple, kwargs: dict, with_store: bool) -> Any:
        self._check_open()
        progress = kwargs.get("progress")
        cancel = kwargs.get("cancel")
        if progress is not None:
            kwargs["progress"] = _PROGRESS
        if cancel is not None:
            kwargs["cancel"] = _CANCEL
        try:
            message = pickle.dumps((fn, args, kwargs, with_store))
        except Exception as exc:
            raise TypeError(f"{getattr(fn, '__qualname__', fn)!r} cannot run in the store process: it and "
                            f"its arguments must pickle (a module-level function): {exc}") from None
        call_id = next(self._ids)
        replies: queue.Queue = queue.Queue()
        with self._pending_lock:
            self._check_open()          # under the lock: the reader fails every call registered before it gave up
            self._pending[call_id] = replies
        try:
            self._send(("call", call_id, message))
            cancel_sent = False
            while True:
                try:
                    reply = replies.get(timeout=POLL_S)
                except queue.Empty:
                    if cancel is not None and not cancel_sent and cancel.cancelled:
                        cancel_sent = True
                        self._send(("cancel", call_id))
                    continue
                kind, payload = reply
                if kind == "progress":
                    if progress is not None:
                        progress(_loads(payload))
                elif kind == "result":
                    return _loads(payload)
                else:
                    raise _rebuild(payload)
        finally:
            with self._pending_lock:
                self._pending.pop(call_id, None)

    def _check_open(self) -> None:
        if self.gone is not None:
            raise StoreProcessGone(self.gone)
        if self._closed:
            raise StoreProcessError("the database is closed")

    def _send(self, msg) -> None:
        try:
            with self._send_lock:
                self._conn.send(msg)
        except (OSError, ValueError) as exc:
            # the process died under us: the reader sees it at once; say what it says (never a hang)
            if not self._closed and self._gone_event.wait(10) and self.gone is not None:
                raise StoreProcessGone(self.gone) from None
            raise StoreProcessError(f"the database process is not running ({exc})") from None

    def _read_loop(self) -> None:
        sentinel = self.process.sentinel
        while True:
            try:   # results and progress arrive as bytes: unpickled by the waiting caller, not here
                # the pipe or the process's sentinel: a dead process is noticed even if something
                # else (a grandchild) still held the pipe's other end
                ready = mpc.wait([self._conn, sentinel])
                if self._conn not in ready and not self._conn.poll(0):
                    break                    # the process ended and nothing is left to read
                kind, call_id, payload = self._conn.recv()
                if kind == "result-bytes":   # a result's pickle follows as raw bytes (read once, not re-unpickled)
                    kind, payload = "result", self._conn.recv_bytes()
            except (EOFError, OSError):
                break
            with self._pending_lock:
                target = self._pending.get(call_id)
            if target is not None:
                target.put((kind, payload))
            # drop this thread's reference now: it held the last reply's bytes until the next reply came
            # (a 1M-item dataset's 132 MiB pickle stayed alive while the app loaded the model beside it)
            payload = None
        if self._closed:                     # close(): its own end
            with self._pending_lock:
                for q in self._pending.values():
                    q.put(("error", ("closed", "the database is closed")))
                self._gone_event.set()
            return
        self.process.join(10)                # reap it now: no <defunct> child left behind
        code = self.process.exitcode
        message = f"the database process stopped (exit code {code if code is not None else 'unknown'})"
        with self._pending_lock:
            callbacks, self._on_gone = self._on_gone, []
        _notify(callbacks, message)          # before the calls fail: an app hears why before what failed
        with self._pending_lock:
            self.gone = message
            for q in self._pending.values():
                q.put(("error", ("gone", message)))
            self._gone_event.set()
            late, self._on_gone = self._on_gone, []   # registered while the first ones ran
        _notify(late, message)


def _notify(callbacks, message: str) -> None:
    for callback in callbacks:
        try:
            callback(message)
        except Exception:  # noqa: BLE001 - a listener's bug must not stop the calls failing
            traceback.print_exc()


def _loads(data: bytes):
    try:
        return pickle.loads(data)
    except Exception as exc:  # noqa: BLE001 - e.g. a class this process cannot import
        raise StoreProcessError(f"the database process's reply could not be read ({type(exc).__name__}: "
                                f"{exc})") from None


def _rebuild(payload) -> BaseException:
    kind = payload[0]
    if kind == "pickled":
        try:
            return pickle.loads(payload[1])
        except Exception:  # noqa: BLE001
            return EngineError(payload[2])
    if kind == "gone":
        return StoreProcessGone(payload[1])
    if kind == "closed":
        return StoreProcessError(payload[1])
    if kind == "engine":
        return EngineError(payload[1])
    return RuntimeError(payload[1])


def _describe(exc: BaseException) -> tuple:
    text = str(exc) if isinstance(exc, EngineError) else f"{type(exc).__name__}: {exc}"
    try:
        data = pickle.dumps(exc)
        pickle.loads(data)
        return ("pickled", data, text)
    except Exception:  # noqa: BLE001
        return ("engine", text) if isinstance(exc, EngineError) else ("bug", text)


# ---- the store process ---------------------------------------------------------------------

def serve(conn, path_or_url: str | None, artifacts: str | None = None) -> None:
    """Entry of the store process: open the Store, then run calls, each in its own thread, until
    "close" or until the app's end of the pipe goes away (the app died: so does this process)."""
    send_lock = threading.Lock()

    def send(msg) -> None:
        with send_lock:
            try:
                conn.send(msg)
            except (OSError, ValueError):
                pass

    try:
        store = open_store(path_or_url, artifacts)
    except BaseException as exc:  # noqa: BLE001 - reported to the app
        conn.send(("error", _describe(exc)))
        return
    facts = StoreFacts(url=store.url, display_name=str(store.display_name), is_sqlite=store.is_sqlite,
                       artifact_root=str(store.artifact_root), database_id=store.database_id)
    conn.send(("ready", facts))
    tokens: dict[int, CancelToken] = {}
    threads: list[threading.Thread] = []

    def run_call(call_id: int, message: bytes) -> None:
        try:
            fn, args, kwargs, with_store = pickle.loads(message)
            args = tuple(store if _is(a, _STORE) else a for a in args)
            if with_store:
                args = (store, *args)
            kwargs = {k: (store if _is(v, _STORE) else v) for k, v in kwargs.items()}
            if _is(kwargs.get("progress"), _PROGRESS):
                kwargs["progress"] = lambda update: send(("progress", call_id, pickle.dumps(update)))
            if _is(kwargs.get("cancel"), _CANCEL):
                kwargs["cancel"] = tokens[call_id]
            result = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the caller
            if not isinstance(exc, EngineError):
                traceback.print_exc()
            send(("error", call_id, _describe(exc)))
        else:
            try:
                data = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as exc:  # noqa: BLE001 - a result that does not pickle
                send(("error", call_id, ("bug", f"the result of {fn!r} cannot be sent back: {exc}")))
            else:
                del result
                with send_lock:             # the pickle's own bytes, not pickled again inside a tuple
                    try:                    # (a 1M-item dataset's second copy was ~150 MiB here and in the app)
                        conn.send(("result-bytes", call_id, len(data)))
                        conn.send_bytes(data)
                    except (OSError, ValueError):
                        pass
        finally:
            tokens.pop(call_id, None)

    try:
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                break
            if msg[0] == "call":
                tokens[msg[1]] = CancelToken()
                t = threading.Thread(target=run_call, args=msg[1:], name=f"store-call-{msg[1]}", daemon=True)
                threads = [x for x in threads if x.is_alive()] + [t]
                t.start()
            elif msg[0] == "cancel":
                token = tokens.get(msg[1])
                if token is not None:
                    token.cancel()
            elif msg[0] == "close":
                break
    finally:
        for token in list(tokens.values()):
            token.cancel()
        for t in threads:
            t.join(30)
        store.close()


def _is(value, marker: str) -> bool:
    return isinstance(value, str) and value == marker
