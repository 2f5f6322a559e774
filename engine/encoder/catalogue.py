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

from engine.encoder.model import DIM, EncodeProgress, load_encoder
from engine.encoder.static import STATIC_NAME, load_static_encoder
from engine.encoder.weights import MODEL_NAME
from engine.errors import CancelledError, EngineError
from engine.store import timings
from engine.store.ownership import database_folder

CHECKPOINT_ITEMS = 2048    # a cancelled or interrupted encode keeps at most this much less
STATIC_THRESHOLD = 100_000  # "auto" uses the static encoder above this many items (the full one takes hours)
ENCODER_CHOICES = ("auto", "minilm", "static")
ENCODER_NAMES = {"minilm": MODEL_NAME, "static": STATIC_NAME}


def choose_encoder(n_items: int, encoder: str = "auto") -> str:
    """The cache name of the encoder for a catalogue: ``auto`` picks by size (``STATIC_THRESHOLD``)."""
    if encoder in ENCODER_NAMES.values():
        return encoder
    if encoder not in ENCODER_CHOICES:
        raise EngineError(f"unknown encoder {encoder!r}; choose one of {', '.join(ENCODER_CHOICES)}")
    if encoder == "auto":
        encoder = "static" if n_items > STATIC_THRESHOLD else "minilm"
    return ENCODER_NAMES[encoder]


def encoder_by_name(name: str, backend: str = "numpy"):
    """The process-wide encoder behind a cache name (queries must use the catalogue's encoder)."""
    if name == STATIC_NAME:
        return load_static_encoder()
    return load_encoder(backend)


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
    return database_folder(store, "embeddings") / f"dataset-{int(dataset_id)}" / f"{encoder}.npz"


def _read_cache(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        return {}
    with np.load(path) as z:
        return dict(zip(z["hashes"].tolist(), z["vectors"]))


def _read_known(store, dataset_id: int, encoder: str) -> dict[str, np.ndarray]:
    """The cached vectors by text hash; else those of the cache from before caches were kept per
    database (issue 19): keyed by text hash, so reading it is safe whoever wrote it (never rewritten)."""
    return _read_cache(cache_path(store, dataset_id, encoder)) or _read_cache(
        Path(store.artifact_root) / "embeddings" / f"dataset-{int(dataset_id)}" / f"{encoder}.npz")


def _write_cache(path: Path, hashes, vectors) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, hashes=np.asarray(hashes, dtype="U40"), vectors=np.asarray(vectors, dtype=np.float32))
    os.replace(tmp, path)


def encode_catalogue(store, dataset, *, backend: str = "keras", batch_size: int = 64, encoder: str = "auto",
                     progress=None, cancel=None) -> EncodeSummary:
    """Encode the items whose text has no cached vector yet; write the cache atomically.
    ``encoder``: auto (by catalogue size), minilm or static; the summary names the one used."""
    start = time.perf_counter()
    name = choose_encoder(dataset.n_items, encoder)
    path = cache_path(store, dataset.info.id, name)
    hashes = text_hashes(dataset)
    known = _read_known(store, dataset.info.id, name)
    todo = np.array([i for i, h in enumerate(hashes) if h not in known], dtype=np.int64)
    reused = dataset.n_items - len(todo)
    if progress is not None:
        progress(EncodeProgress(reused, dataset.n_items, f"loading {name}" if len(todo) else f"up to date ({name})"))
    if len(todo):
        enc = encoder_by_name(name, backend)
        if name == STATIC_NAME:
            batch_size = max(batch_size, 1024)
        try:
            for a in range(0, len(todo), CHECKPOINT_ITEMS):
                chunk = todo[a:a + CHECKPOINT_ITEMS]
                report = None if progress is None else (
                    lambda u, a=a: progress(EncodeProgress(reused + a + u.done, dataset.n_items, f"encoding ({name})")))
                vecs = enc.encode([dataset.item_text(int(i)) for i in chunk], batch_size, progress=report, cancel=cancel)
                known.update(zip(hashes[chunk].tolist(), vecs))
                if a + CHECKPOINT_ITEMS < len(todo):
                    _checkpoint(path, known)
        except CancelledError:
            _checkpoint(path, known)
            raise
    # keep only the current catalogue's texts, in item order
    _write_cache(path, hashes, np.stack([known[h] for h in hashes]) if len(hashes) else np.zeros((0, DIM)))
    seconds = time.perf_counter() - start
    if len(todo) >= 50:       # this machine's speed, for the plan shown before a training (a few texts say little)
        timings.record(store, f"encode:{name}", len(todo), seconds)
    return EncodeSummary(dataset.info.name, name, dataset.n_items, int(len(todo)), int(reused), seconds, str(path))


def _checkpoint(path: Path, known: dict) -> None:
    if known:
        _write_cache(path, list(known), np.stack(list(known.values())))


def catalogue_encoder(store, dataset) -> str:
    """The encoder whose cache covers most of the catalogue (ties: the one ``auto`` would pick)."""
    auto = choose_encoder(dataset.n_items)
    other = STATIC_NAME if auto == MODEL_NAME else MODEL_NAME
    return max((auto, other), key=lambda n: (_fraction(store, dataset, n), n == auto))


def _fraction(store, dataset, name: str) -> float:
    known = _read_known(store, dataset.info.id, name)
    if not dataset.n_items:
        return 1.0
    if not known:
        return 0.0
    return float(np.mean([h in known for h in text_hashes(dataset)]))


def encoded_fraction(store, dataset, encoder: str | None = None) -> float:
    """Share of the catalogue whose current text has a cached vector (0 when nothing is cached)."""
    return _fraction(store, dataset, encoder or catalogue_encoder(store, dataset))


def load_catalogue_vectors(store, dataset, encoder: str | None = None) -> np.ndarray:
    """(n_items, 384) unit rows for the dataset's current texts; a clear error when not encoded yet.
    ``encoder``: a cache name (default: ``catalogue_encoder``)."""
    name = encoder or catalogue_encoder(store, dataset)
    known = _read_known(store, dataset.info.id, name)
    hashes = text_hashes(dataset)
    missing = sum(1 for h in hashes if h not in known)
    if missing:
        raise EngineError(f"{missing} of {dataset.n_items} items of {dataset.info.name!r} have no {name} "
                          f"vector yet; run `llmrec encode --dataset {dataset.info.name}` (or Encode in the app)")
    return np.stack([known[h] for h in hashes]).astype(np.float32) if len(hashes) else np.zeros((0, DIM), np.float32)


def cached_vectors(store, dataset, items, encoder: str = MODEL_NAME) -> np.ndarray | None:
    """(len(items), 384) cached vectors of some items' current texts, or None unless all are cached."""
    known = _read_known(store, dataset.info.id, encoder)
    keys = [hashlib.sha1(dataset.item_text(int(i)).encode("utf-8")).hexdigest() for i in items]
    if not keys or not all(k in known for k in keys):
        return None
    return np.stack([known[k] for k in keys]).astype(np.float32)
