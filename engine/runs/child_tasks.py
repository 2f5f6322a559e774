"""The app's TensorFlow work, as module-level functions for engine.jobs.executor.ChildProcess (no Qt: the
child should import as little as possible). Each child opens its own Store from the URL it is given."""
from __future__ import annotations

from engine.data.dataset import load_dataset
from engine.encoder.catalogue import encode_catalogue
from engine.retrieval.index import index_info
from engine.runs.indexing import build_run_index
from engine.runs.training import available_devices, run_training
from engine.store import open_store


def train_in_child(config, store_url: str, progress=None, cancel=None):
    """The child's training entry: open our own Store, run engine.runs.training.run_training."""
    store = open_store(store_url)
    try:
        return run_training(config, store, progress=progress, cancel=cancel)
    finally:
        store.close()


def probe_devices(progress=None, cancel=None) -> list[tuple[str, str]]:
    """The devices TensorFlow sees (imports TensorFlow: only ever in a child)."""
    return available_devices()


def encode_in_child(store_url: str, dataset_id: int, progress=None, cancel=None):
    """The child's catalogue-encoding entry (Keras: TensorFlow stays out of the app's process)."""
    store = open_store(store_url)
    try:
        return encode_catalogue(store, load_dataset(store, int(dataset_id), with_interactions=False), progress=progress, cancel=cancel)
    finally:
        store.close()


def index_in_child(store_url: str, run_id: int, force: bool, progress=None, cancel=None) -> dict:
    """The child's "Build index" entry (engine.retrieval.index.build_run_index): a 1M-item build trains k-means and
    holds a second copy of the vectors for minutes, so it runs here, at the lowest priority, and its
    memory goes back to the system when it ends. Returns index_info's plain dict."""
    store = open_store(store_url)
    try:
        path = build_run_index(store, int(run_id), force=bool(force), progress=progress, cancel=cancel)
        return {"run_id": int(run_id), **index_info(path.parent)}
    finally:
        store.close()
