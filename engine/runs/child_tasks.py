"""What runs in a child process (the engine: no Qt, the child should import as little as possible).
`child_main` reports over a multiprocessing queue and turns the parent's cancel flag (shared memory,
polled by a thread here) into the engine's CancelToken."""
from __future__ import annotations

import threading
import traceback

# The child runs at the lowest CPU priority, so the window gets the CPU first whenever it needs it
# (measured on a busy 2-core box: at nice 0 a starting TensorFlow child stalled the GUI thread ~2 s).
CHILD_NICE = 19


def child_main(target: str, args: tuple, out: "mp.Queue", cancel_flag) -> None:
    import importlib
    import os
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if hasattr(os, "setpriority"):
        try:  # the parent sets it right after the start too; this covers platforms where it cannot
            os.setpriority(os.PRIO_PROCESS, 0, max(CHILD_NICE, os.getpriority(os.PRIO_PROCESS, 0)))
        except OSError:
            pass
    from engine.errors import CancelledError, EngineError
    from engine.jobs.cancel import CancelToken
    token = CancelToken()
    stop = threading.Event()

    def watch():
        while not stop.wait(0.1):
            if cancel_flag.value:
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
    """The child's training entry: open our own Store, run engine.runs.training.run_training."""
    from engine.store import open_store
    from engine.runs.training import run_training
    store = open_store(store_url)
    try:
        return run_training(config, store, progress=progress, cancel=cancel)
    finally:
        store.close()


def probe_devices(progress=None, cancel=None) -> list[tuple[str, str]]:
    """The devices TensorFlow sees (imports TensorFlow: only ever in a child)."""
    from engine.runs.training import available_devices
    return available_devices()


def encode_in_child(store_url: str, dataset_id: int, progress=None, cancel=None):
    """The child's catalogue-encoding entry (Keras: TensorFlow stays out of the app's process)."""
    from engine.data.dataset import load_dataset
    from engine.encoder.catalogue import encode_catalogue
    from engine.store import open_store
    store = open_store(store_url)
    try:
        return encode_catalogue(store, load_dataset(store, int(dataset_id), with_interactions=False), progress=progress, cancel=cancel)
    finally:
        store.close()


def index_in_child(store_url: str, run_id: int, force: bool, progress=None, cancel=None) -> dict:
    """The child's "Build index" entry (engine.retrieval.index.build_run_index): a 1M-item build trains k-means and
    holds a second copy of the vectors for minutes, so it runs here, at the lowest priority, and its
    memory goes back to the system when it ends. Returns index_info's plain dict."""
    from engine.retrieval.index import build_run_index, index_info
    from engine.store import open_store
    store = open_store(store_url)
    try:
        path = build_run_index(store, int(run_id), force=bool(force), progress=progress, cancel=cancel)
        return {"run_id": int(run_id), **index_info(path.parent)}
    finally:
        store.close()
