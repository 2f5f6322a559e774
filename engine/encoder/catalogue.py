"""Catalogue embeddings: every item's text through the encoder, cached as an artifact beside the
database, keyed by dataset, encoder and a hash of each item's text. Re-encoding only touches items
that are new or whose text changed; a cancelled run keeps what it finished.

This one cache serves everything that reads the catalogue's meaning: the LSTM's item tower (training),
search, the semantic space and the explorer's encoded share. They all look items up by the sha1 of
``Dataset.item_text`` in ``cache_path(store, dataset_id, encoder)``, so whichever of them encoded first,
the others reuse its vectors without encoding again (tests/engine/test_catalogue_cache.py)."""
from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.data.dataset import load_dataset
from engine.encoder.model import DIM, EncodeProgress, load_encoder
from engine.encoder.static import STATIC_NAME, load_static_encoder
from engine.encoder.weights import MODEL_NAME
from engine.errors import CancelledError, EngineError
from engine.store import timings
from engine.store.ownership import database_folder

CHECKPOINT_ITEMS = 2048     # items encoded between two cancel checks / progress reports of the chunk loop
CHECKPOINT_SECONDS = 30.0   # a cancelled or killed encode loses at most this much work: the cache is rewritten
#                             at most this often (per chunk, a 1M-item static encode rewrote ~1.5 GB 488 times)
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


@dataclass(frozen=True)
class CatalogueShare:
    """How much of a catalogue one encoder's cache covers (plain data: the app's explorer and Train view
    show it); ``vectors``: the (n_items, 384) rows in item order when asked for and all are cached."""
    dataset_id: int
    encoder: str
    n_items: int
    encoded: int
    vectors: np.ndarray | None = None

    @property
    def fraction(self) -> float:
        return 1.0 if not self.n_items else self.encoded / self.n_items


def text_hashes(dataset) -> np.ndarray:
    """(n_items,) hex sha1 of each item's text (what the encoder reads)."""
    return np.array([hashlib.sha1(dataset.item_text(i).encode("utf-8")).hexdigest()
                     for i in range(dataset.n_items)], dtype="U40")


def cache_path(store, dataset_id: int, encoder: str = MODEL_NAME) -> Path:
    return database_folder(store, "embeddings") / f"dataset-{int(dataset_id)}" / f"{encoder}.npz"


def _cache_file(store, dataset_id: int, encoder: str) -> Path | None:
    """The cache to read: this database's own; else the one from before caches were kept per database
    (issue 19): keyed by text hash, so reading it is safe whoever wrote it (it is never rewritten)."""
    for path in (cache_path(store, dataset_id, encoder),
                 Path(store.artifact_root) / "embeddings" / f"dataset-{int(dataset_id)}" / f"{encoder}.npz"):
        if path.is_file():
            return path
    return None


def _cached_hashes(path: Path | None) -> np.ndarray:
    if path is None:
        return np.zeros(0, dtype="U40")
    with np.load(path) as z:          # an .npz member is read only when asked for: the vectors stay on disk
        return z["hashes"]


def _cached_vectors(path: Path) -> np.ndarray:
    with np.load(path) as z:
        return np.asarray(z["vectors"], dtype=np.float32)


def _read_vectors_into(path: Path, out: np.ndarray) -> bool:
    """Stream the cache's float32 vectors straight into `out` (C-contiguous, the same shape, float32 or a
    narrower float it is cast to block by block), 64 MiB at a time: np.load would hold a second copy
    (1.5 GB at 1M items). False when the shapes differ."""
    import zipfile
    with zipfile.ZipFile(path) as zf, zf.open("vectors.npy") as f:
        version = np.lib.format.read_magic(f)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(f)
        if tuple(shape) != out.shape or fortran or np.dtype(dtype) != np.float32 or not out.flags.c_contiguous:
            return False
        flat = out.reshape(-1)
        at, step = 0, 16 << 20               # floats a block (64 MiB read)
        while at < len(flat):
            want = min(step, len(flat) - at)
            chunk = f.read(4 * want)
            if len(chunk) != 4 * want:
                return False
            flat[at:at + want] = np.frombuffer(chunk, np.float32)
            at += want
    return True


def _rows(cached: np.ndarray, hashes: np.ndarray) -> np.ndarray:
    """Each text hash's row in the cache, -1 where it has none. The usual case, a cache written for this
    very catalogue, is one comparison; otherwise a sorted lookup (no dict of a million rows)."""
    if len(cached) == len(hashes) and np.array_equal(cached, hashes):
        return np.arange(len(hashes))
    if not len(cached) or not len(hashes):
        return np.full(len(hashes), -1, dtype=np.int64)
    order = np.argsort(cached, kind="stable")
    ranked = cached[order]
    at = np.minimum(np.searchsorted(ranked, hashes), len(ranked) - 1)
    return np.where(ranked[at] == hashes, order[at], -1)


def _in_order(rows: np.ndarray, n_cached: int) -> bool:
    return len(rows) == n_cached and bool(np.array_equal(rows, np.arange(len(rows))))


def _write_cache(path: Path, hashes, vectors) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, hashes=np.asarray(hashes, dtype="U40"), vectors=np.asarray(vectors, dtype=np.float32))
    os.replace(tmp, path)


def encode_catalogue(store, dataset, *, backend: str = "keras", batch_size: int = 64, encoder: str = "auto",
                     progress=None, cancel=None) -> EncodeSummary:
    """Encode the items whose text has no cached vector yet; write the cache atomically.
    ``encoder``: auto (by catalogue size), minilm or static; the summary names the one used."""
    return _encode(store, dataset, backend=backend, batch_size=batch_size, encoder=encoder, progress=progress,
                   cancel=cancel)[0]


def encoded_vectors(store, dataset, *, backend: str = "keras", batch_size: int = 64, encoder: str = "auto",
                    lead: int = 0, dtype=np.float32, progress=None, cancel=None) -> np.ndarray:
    """``encode_catalogue`` and the vectors it leaves in the cache, in item order after ``lead`` zero rows
    ((lead + n_items, 384): the LSTM's item input has a padding row 0), without reading the cache back
    or stacking a copy (at 1M items each copy is 1.5 GB). ``dtype`` float16 (the LSTM's frozen inputs at
    scale) is read from the cache block by block: never a float32 copy beside the half-precision one."""
    summary, vectors = _encode(store, dataset, backend=backend, batch_size=batch_size, encoder=encoder,
                               progress=progress, cancel=cancel, lead=lead, dtype=dtype)
    if vectors.dtype == np.dtype(dtype):
        return vectors
    del vectors                              # encoded just now in float32 and written: read back converted
    out = np.zeros((lead + dataset.n_items, DIM), dtype=dtype)
    if dataset.n_items and not _read_vectors_into(Path(summary.path), out[lead:]):
        out[lead:] = _cached_vectors(Path(summary.path))
    return out


def _encode(store, dataset, *, backend, batch_size, encoder, progress, cancel,
            lead: int = 0, dtype=np.float32) -> tuple[EncodeSummary, np.ndarray]:
    """(summary, vectors): the vectors in ``dtype`` when the cache is up to date, else in float32 (as
    encoded and written)."""
    start = time.perf_counter()
    n = dataset.n_items
    name = choose_encoder(n, encoder)
    path = cache_path(store, dataset.info.id, name)
    hashes = text_hashes(dataset)
    source = _cache_file(store, dataset.info.id, name)
    cached = _cached_hashes(source)
    rows = _rows(cached, hashes)
    todo = np.flatnonzero(rows < 0)
    reused = n - len(todo)
    if progress is not None:
        progress(EncodeProgress(reused, n, f"loading {name}" if len(todo) else f"up to date ({name})"))
    if not len(todo) and source == path and _in_order(rows, len(cached)):
        buffer = np.zeros((lead + n, DIM), dtype=dtype)
        if n and not _read_vectors_into(path, buffer[lead:]):   # up to date: nothing to write
            buffer[lead:] = _cached_vectors(path)
        return EncodeSummary(dataset.info.name, name, n, 0, reused, time.perf_counter() - start, str(path)), buffer
    buffer = np.zeros((lead + n, DIM), dtype=np.float32)
    out = buffer[lead:]                   # a view: the cache is written from it without a copy
    done = rows >= 0
    if reused and source is not None:
        out[done] = _cached_vectors(source)[rows[done]]
    if len(todo):
        enc = encoder_by_name(name, backend)
        if name == STATIC_NAME:
            batch_size = max(batch_size, 1024)
        saved = time.monotonic()
        try:
            for a in range(0, len(todo), CHECKPOINT_ITEMS):
                chunk = todo[a:a + CHECKPOINT_ITEMS]
                report = None if progress is None else (
                    lambda u, a=a: progress(EncodeProgress(reused + a + u.done, n, f"encoding ({name})")))
                out[chunk] = enc.encode([dataset.item_text(int(i)) for i in chunk], batch_size, progress=report,
                                        cancel=cancel)
                done[chunk] = True
                if a + CHECKPOINT_ITEMS < len(todo) and time.monotonic() - saved > CHECKPOINT_SECONDS:
                    _checkpoint(path, hashes, out, done)
                    saved = time.monotonic()
        except CancelledError:
            _checkpoint(path, hashes, out, done)
            raise
    _write_cache(path, hashes, out)       # only the current catalogue's texts, in item order
    seconds = time.perf_counter() - start
    if len(todo) >= 50:       # this machine's speed, for the plan shown before a training (a few texts say little)
        timings.record(store, f"encode:{name}", len(todo), seconds)
    return EncodeSummary(dataset.info.name, name, n, int(len(todo)), int(reused), seconds, str(path)), buffer


def _checkpoint(path: Path, hashes: np.ndarray, out: np.ndarray, done: np.ndarray) -> None:
    """What is encoded so far: rows not done yet get an empty hash (never a text's), so the vectors are
    written as they are, without a copy of the finished rows."""
    if done.any():
        _write_cache(path, np.where(done, hashes, ""), out)


def catalogue_share(store, dataset, encoder: str | None = None, *, with_vectors: bool = False) -> CatalogueShare:
    """The share of the catalogue cached for ``encoder`` (default: the encoder whose cache covers most of it;
    ties: the one ``auto`` would pick), computed once; with its vectors when asked for and complete."""
    hashes = text_hashes(dataset)
    auto = choose_encoder(dataset.n_items)
    names = [encoder] if encoder else [auto, STATIC_NAME if auto == MODEL_NAME else MODEL_NAME]
    found: list[tuple[int, int, str, np.ndarray, Path | None]] = []
    for name in names:
        source = _cache_file(store, dataset.info.id, name)
        rows = _rows(_cached_hashes(source), hashes)
        found.append((int((rows >= 0).sum()), -len(found), name, rows, source))
    count, _order, name, rows, source = max(found, key=lambda f: f[:2])
    vectors = None
    if with_vectors and count == dataset.n_items:
        vectors = _cached_vectors(source)[rows] if source is not None and len(rows) else np.zeros((0, DIM), np.float32)
    return CatalogueShare(int(dataset.info.id), name, int(dataset.n_items), count, vectors)


def catalogue_encoder(store, dataset) -> str:
    """The encoder whose cache covers most of the catalogue (ties: the one ``auto`` would pick)."""
    return catalogue_share(store, dataset).encoder


def encoded_fraction(store, dataset, encoder: str | None = None) -> float:
    """Share of the catalogue whose current text has a cached vector (0 when nothing is cached)."""
    return catalogue_share(store, dataset, encoder).fraction


def load_catalogue_vectors(store, dataset, encoder: str | None = None) -> np.ndarray:
    """(n_items, 384) unit rows for the dataset's current texts; a clear error when not encoded yet.
    ``encoder``: a cache name (default: ``catalogue_encoder``)."""
    share = catalogue_share(store, dataset, encoder, with_vectors=True)
    if share.vectors is None:
        raise EngineError(f"{share.n_items - share.encoded} of {share.n_items} items of {dataset.info.name!r} have "
                          f"no {share.encoder} vector yet; run `llmrec encode --dataset {dataset.info.name}` "
                          "(or Encode in the app)")
    return share.vectors


def cached_vectors(store, dataset, items, encoder: str = MODEL_NAME) -> np.ndarray | None:
    """(len(items), 384) cached vectors of some items' current texts, or None unless all are cached."""
    source = _cache_file(store, dataset.info.id, encoder)
    keys = np.array([hashlib.sha1(dataset.item_text(int(i)).encode("utf-8")).hexdigest() for i in items], dtype="U40")
    rows = _rows(_cached_hashes(source), keys)
    if not len(keys) or source is None or (rows < 0).any():
        return None
    return _cached_vectors(source)[rows]


def cache_stamp(store, dataset_id: int) -> tuple:
    """A cheap fingerprint of a dataset's caches (each encoder's file size and mtime): the explorer reads
    the encoded share again only when it changed (a training, an encoding job or the CLI wrote them)."""
    stamp = []
    for name in (MODEL_NAME, STATIC_NAME):
        path = _cache_file(store, dataset_id, name)
        st = path.stat() if path is not None else None
        stamp.append((name, None if st is None else (st.st_size, st.st_mtime_ns)))
    return tuple(stamp)


def catalogue_state(store, dataset_id: int, n_items: int, *, encoder: str | None = None,
                    with_vectors: bool = True) -> CatalogueShare:
    """A store-process job of the app (the explorer, the Train view): the catalogue's share by the dataset's
    id, reading its texts only when some cache exists (the app never pickles a whole catalogue over;
    at 1M items that would be ~130 MiB). ``encoder``: a choice or cache name (the Train view: what the
    training will use), default the best-covering cache. Nothing cached: 0 of n_items."""
    name = None if encoder is None else choose_encoder(n_items, encoder)
    stamp = dict(cache_stamp(store, dataset_id))
    if n_items and all(stamp[n] is None for n in ([name] if name else stamp)):
        return CatalogueShare(int(dataset_id), name or choose_encoder(n_items), int(n_items), 0)
    dataset = load_dataset(store, dataset_id, with_interactions=False)    # the catalogue only
    return catalogue_share(store, dataset, name, with_vectors=with_vectors)
