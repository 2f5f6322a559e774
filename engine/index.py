"""Candidate retrieval for large catalogues: an approximate nearest-neighbour index over a run's item
vectors, built as a background job, saved beside the run's files and loaded with the run.

Library: faiss-cpu (MIT, Meta's similarity-search library; pip wheels for Linux/macOS/Windows, no
GPU needed, maintained since 2017). Index: HNSW over inner product (the item vectors are unit length,
so inner product is cosine and the LSTM's score scale * cos + offset ranks the same way). HNSW because
it needs no training pass, takes new items in place (`ItemIndex.add`, for items folded in from their
text), and reaches recall@100 >= 0.98 at about a millisecond per query with efSearch in the hundreds.
IVF would build faster but needs a k-means pass and re-training as the catalogue drifts.

Exact search stays the default below `ANN_MIN_ITEMS` items (numpy over 50k x 128 is a few ms) and is
always what evaluation uses (EVALUATION.md: full ranking). `exact_search` is the reference the
benchmark measures recall against.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .errors import EngineError
from .jobs import check
from .types import StepProgress

ANN_MIN_ITEMS = 50_000      # below this, exact numpy scoring is fast enough and exact
INDEX_FILE = "index.faiss"
INDEX_META = "index.json"


@dataclass(frozen=True)
class IndexParams:
    m: int = 32                  # HNSW graph degree
    ef_construction: int = 80    # build-time beam
    ef_search: int = 256         # query-time beam: recall against latency


def _faiss():
    try:
        import faiss
    except ImportError as exc:  # pragma: no cover - faiss-cpu is a core dependency
        raise EngineError("the ANN index needs faiss-cpu: pip install faiss-cpu") from exc
    return faiss


def _rows(vectors, a: int, b: int) -> np.ndarray:
    """Rows a..b-1 as contiguous float32 (dequantised when the vectors are int8)."""
    return np.ascontiguousarray(np.asarray(vectors[a:b], dtype=np.float32))


class ItemIndex:
    """An HNSW inner-product index over item vectors; row i of the index is item i."""

    def __init__(self, index, params: IndexParams):
        self.index, self.params = index, params
        self.index.hnsw.efSearch = params.ef_search

    @property
    def n_items(self) -> int:
        return int(self.index.ntotal)

    @property
    def dim(self) -> int:
        return int(self.index.d)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(ids (B, k) int64, similarities (B, k) float32), best first; -1 ids where fewer exist."""
        q = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = max(1, min(int(k), self.n_items))
        self.index.hnsw.efSearch = max(self.params.ef_search, k)
        sims, ids = self.index.search(q, k)
        return ids.astype(np.int64), sims

    def add(self, vectors, *, progress=None, cancel=None, chunk: int = 20_000) -> None:
        """Append items (in place): their index rows continue the item numbering."""
        n = len(vectors)
        for a in range(0, n, chunk):
            check(cancel)
            self.index.add(_rows(vectors, a, min(n, a + chunk)))
            if progress is not None:
                progress(StepProgress("indexing items", min(n, a + chunk), n))

    def save(self, directory: Path) -> Path:
        """Write index.faiss (temp name, then rename: never a half-written index under the real name)."""
        import json
        faiss = _faiss()
        directory = Path(directory)
        tmp = directory / (INDEX_FILE + ".part")
        faiss.write_index(self.index, str(tmp))
        (directory / (INDEX_META + ".part")).write_text(json.dumps({"kind": "hnsw-ip", "n_items": self.n_items,
                                                                    **asdict(self.params)}))
        os.replace(directory / (INDEX_META + ".part"), directory / INDEX_META)
        os.replace(tmp, directory / INDEX_FILE)
        return directory / INDEX_FILE

    @classmethod
    def load(cls, directory: Path) -> "ItemIndex | None":
        """The index saved in `directory`, or None when there is none."""
        import json
        directory = Path(directory)
        if not (directory / INDEX_FILE).exists():
            return None
        meta = json.loads((directory / INDEX_META).read_text()) if (directory / INDEX_META).exists() else {}
        params = IndexParams(**{k: meta[k] for k in ("m", "ef_construction", "ef_search") if k in meta})
        return cls(_faiss().read_index(str(directory / INDEX_FILE)), params)


def build_index(vectors, params: IndexParams | None = None, *, progress=None, cancel=None,
                chunk: int = 20_000) -> ItemIndex:
    """Build an HNSW index over (n, d) unit-length vectors (float32 or int8 `QuantizedVectors`), in
    chunks so progress is reported and a cancel is honoured between them."""
    faiss = _faiss()
    params = params or IndexParams()
    n, d = vectors.shape
    index = faiss.IndexHNSWFlat(int(d), params.m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = params.ef_construction
    item_index = ItemIndex(index, params)
    item_index.add(vectors, progress=progress, cancel=cancel, chunk=chunk)
    return item_index


def exact_search(vectors, queries: np.ndarray, k: int, chunk: int = 200_000) -> tuple[np.ndarray, np.ndarray]:
    """The exact top-k by inner product (the reference for recall), chunked over items."""
    q = np.atleast_2d(np.asarray(queries, np.float32))
    n = len(vectors)
    k = min(int(k), n)
    best_ids = np.zeros((len(q), 0), np.int64)
    best = np.zeros((len(q), 0), np.float32)
    for a in range(0, n, chunk):
        s = q @ _rows(vectors, a, min(n, a + chunk)).T
        ids = np.concatenate([best_ids, np.broadcast_to(np.arange(a, a + s.shape[1]), s.shape)], axis=1)
        sims = np.concatenate([best, s], axis=1)
        top = np.argpartition(-sims, min(k, sims.shape[1]) - 1, axis=1)[:, :k]
        best_ids, best = np.take_along_axis(ids, top, 1), np.take_along_axis(sims, top, 1)
    order = np.argsort(-best, axis=1, kind="stable")
    return np.take_along_axis(best_ids, order, 1), np.take_along_axis(best, order, 1)


def recall(approx_ids: np.ndarray, exact_ids: np.ndarray) -> float:
    """Mean over queries of |approx ∩ exact| / |exact| (recall@k against exact search)."""
    hits = [len(np.intersect1d(a[a >= 0], e)) / max(1, len(e)) for a, e in zip(approx_ids, exact_ids)]
    return float(np.mean(hits)) if hits else float("nan")


def build_run_index(store, run_id: int, *, params: IndexParams | None = None, force: bool = False,
                    progress=None, cancel=None) -> Path:
    """The background job behind `llmrec index` and the app's "Build index": index a run's item vectors
    and save the index beside its files. Below ANN_MIN_ITEMS exact search is used unless `force`."""
    from .models.registry import get_model_class
    from .runs import run_path
    from .storage import repository as repo
    with store.session() as s:
        info = repo.get_run(s, run_id)
    directory = run_path(store, info)
    model = get_model_class(info.model).load(directory)
    vectors = model.item_vectors()
    if vectors is None or not hasattr(model, "query_vectors") or model.query_vectors([np.zeros(0, np.int64)]) is None:
        raise EngineError(f"run {run_id} ({info.model}) has no item and user vectors to index; "
                          "exact scoring is used for it")
    if len(vectors) < ANN_MIN_ITEMS and not force:
        raise EngineError(f"run {run_id} has {len(vectors):,} items: below {ANN_MIN_ITEMS:,} exact search is "
                          "used (fast and exact); pass --force to build an index anyway")
    index = build_index(vectors, params, progress=progress, cancel=cancel)
    check(cancel)
    return index.save(directory)
