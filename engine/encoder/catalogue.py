"""Catalogue embeddings: every item's text through the encoder, cached as an artifact beside the
database, keyed by dataset, encoder and a hash of each item's text. Re-encoding only touches items
that are new or whose text changed; a cancelled run keeps what it finished."""
from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import CancelledError, EngineError
from ..jobs import check
from .model import DIM, EncodeProgress, load_encoder
from .weights import MODEL_NAME

CHECKPOINT_ITEMS = 2048    # a cancelled or interrupted encode keeps at most this much less


@dataclass(frozen=True)
class EncodeSummary:
    dataset: str
    encoder: str
    n_items: int
    encoded: int           # items run through the encoder now
    reused: int            # items whose cached vector still matched their text
    seconds: float
    path: str


def text_hashes(dataset) -> np.ndarray:
    """(n_items,) hex sha1 of each item's text (what the encoder reads)."""
    return np.array([hashlib.sha1(dataset.item_text(i).encode("utf-8")).hexdigest()
                     for i in range(dataset.n_items)], dtype="U40")


def cache_path(store, dataset_id: int, encoder: str = MODEL_NAME) -> Path:
    return Path(store.artifact_root) / "embeddings" / f"dataset-{int(dataset_id)}" / f"{encoder}.npz"


def _read_cache(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        return {}
    with np.load(path) as z:
        return dict(zip(z["hashes"].tolist(), z["vectors"]))


def _write_cache(path: Path, hashes, vectors) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, hashes=np.asarray(hashes, dtype="U40"), vectors=np.asarray(vectors, dtype=np.float32))
    os.replace(tmp, path)


def encode_catalogue(store, dataset, *, backend: str = "keras", batch_size: int = 64,
                     progress=None, cancel=None) -> EncodeSummary:
    """Encode the items whose text has no cached vector yet; write the cache atomically."""
    start = time.perf_counter()
    path = cache_path(store, dataset.info.id)
    hashes = text_hashes(dataset)
    known = _read_cache(path)
    todo = np.array([i for i, h in enumerate(hashes) if h not in known], dtype=np.int64)
    reused = dataset.n_items - len(todo)
    if progress is not None:
        progress(EncodeProgress(reused, dataset.n_items, "loading the encoder" if len(todo) else "up to date"))
    if len(todo):
        enc = load_encoder(backend)
        try:
            for a in range(0, len(todo), CHECKPOINT_ITEMS):
                chunk = todo[a:a + CHECKPOINT_ITEMS]
                report = None if progress is None else (
                    lambda u, a=a: progress(EncodeProgress(reused + a + u.done, dataset.n_items)))
                vecs = enc.encode([dataset.item_text(int(i)) for i in chunk], batch_size, progress=report, cancel=cancel)
                known.update(zip(hashes[chunk].tolist(), vecs))
                if a + CHECKPOINT_ITEMS < len(todo):
                    _checkpoint(path, known)
        except CancelledError:
            _checkpoint(path, known)
            raise
    # keep only the current catalogue's texts, in item order
    _write_cache(path, hashes, np.stack([known[h] for h in hashes]) if len(hashes) else np.zeros((0, DIM)))
    return EncodeSummary(dataset.info.name, MODEL_NAME, dataset.n_items, int(len(todo)), int(reused),
                         time.perf_counter() - start, str(path))


def _checkpoint(path: Path, known: dict) -> None:
    if known:
        _write_cache(path, list(known), np.stack(list(known.values())))


def encoded_fraction(store, dataset) -> float:
    """Share of the catalogue whose current text has a cached vector (0 when nothing is cached)."""
    known = _read_cache(cache_path(store, dataset.info.id))
    if not dataset.n_items:
        return 1.0
    return float(np.mean([h in known for h in text_hashes(dataset)]))


def load_catalogue_vectors(store, dataset) -> np.ndarray:
    """(n_items, 384) unit rows for the dataset's current texts; a clear error when not encoded yet."""
    path = cache_path(store, dataset.info.id)
    known = _read_cache(path)
    hashes = text_hashes(dataset)
    missing = sum(1 for h in hashes if h not in known)
    if missing:
        raise EngineError(f"{missing} of {dataset.n_items} items of {dataset.info.name!r} have no {MODEL_NAME} "
                          f"vector yet; run `llmrec encode --dataset {dataset.info.name}` (or Encode in the app)")
    return np.stack([known[h] for h in hashes]).astype(np.float32) if len(hashes) else np.zeros((0, DIM), np.float32)


def attach(store, dataset) -> np.ndarray:
    """Load the catalogue vectors and register them as the dataset's ``semantic`` similarity space."""
    from ..similarity import set_semantic_vectors
    vectors = load_catalogue_vectors(store, dataset)
    set_semantic_vectors(dataset, vectors)
    return vectors
