"""Candidate retrieval for large catalogues: an approximate nearest-neighbour index over a run's item
vectors, built as a background job, saved beside the run's files and loaded with the run.

Library: faiss-cpu (MIT, Meta's similarity-search library; pip wheels for Linux/macOS/Windows, no
GPU needed, maintained since 2017). Default index, ``kind="ivf-sq8"``: IVF over inner product (the item
vectors are unit length, so inner product is cosine and the LSTM's score scale * cos + offset ranks
the same way). Spherical k-means cuts the catalogue into nlist ~ 4 sqrt(N) lists; a query scans the
nprobe lists whose centres are nearest, on 8-bit scalar-quantised codes (a quarter of the bytes of the
float32 vectors), and the `refine` x k best of them are re-ranked exactly against the run's own item
vectors, which are in memory anyway. Measured at 1M items (docs/scale.md): the same recall@100 as
IVF-Flat at the same nprobe, a faster scan, and an index of 130 MiB instead of 496 MiB (IVF-Flat
keeps a second float32 copy of every vector). nprobe is tuned at build time: the smallest power of two
whose recall@100 against exact search, on a sample of the run's own user vectors, reaches
`target_recall` (0.98); the tuning curve is recorded in index.json.

Other kinds stay buildable and loadable: ``"ivf"`` (IVF-Flat, the previous default) and ``"hnsw"``. HNSW
was dropped as the default: on the noise-jittered real vectors at 100k items (M 32, efSearch 256) it
reached only recall@100 0.87 and took 7 minutes to build on this box; IVF trains on a sample and scans
whole lists, so recall is a dial (nprobe) rather than a property of the graph. More lists with an HNSW
coarse quantiser (nlist 16,384) were tried and dropped: k-means with 16k centres over the 1M-item
sample alone ran past 2 minutes on the loaded box. New items go in place into their nearest list
(`ItemIndex.add`, fold-in); the lists are not re-trained, so rebuild after large drifts.

A single query's search runs on one OpenMP thread (`omp_threads`): it scans its lists on one thread
anyway, and a parallel region only adds start-up and a barrier that can wait on a descheduled thread
of a loaded box (measured at load 5-8: no difference either way; kept as the safer setting).

Exact search stays the default below `ANN_MIN_ITEMS` items (numpy over 50k x 128 is a few ms) and is
always what evaluation uses (docs/evaluation.md: full ranking). `exact_search` is the reference for recall.
"""
from __future__ import annotations

import json
import os
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from engine.errors import EngineError
from engine.jobs.cancel import check
from engine.types import StepProgress

SINGLE_QUERY_BATCH = 4      # searches of at most this many queries run on one OpenMP thread
ANN_MIN_ITEMS = 50_000      # below this, exact numpy scoring is fast enough and exact
INDEX_FILE = "index.faiss"
INDEX_META = "index.json"


@dataclass(frozen=True)
class IndexParams:
    kind: str = "ivf-sq8"        # "ivf-sq8" (default: 8-bit codes + exact re-rank), "ivf" (IVF-Flat) or "hnsw"
    nlist: int = 0               # IVF lists; 0: about 4 sqrt(N), at most N / 39 (k-means needs points per list)
    nprobe: int = 0              # IVF lists scanned per query; 0: tuned at build time to reach target_recall
    target_recall: float = 0.98  # recall@100 against exact search that the nprobe tuning must reach
    refine: int = 2              # ivf-sq8: re-rank the refine * k best codes exactly against the item vectors
    m: int = 32                  # HNSW graph degree
    ef_construction: int = 80    # HNSW build-time beam
    ef_search: int = 256         # HNSW query-time beam: recall against latency


def auto_nlist(n: int) -> int:
    """About 4 sqrt(n) lists, but at least 39 training points per list (faiss's own floor) and >= 1."""
    return int(max(1, min(round(4 * np.sqrt(n)), n // 39)))


def _faiss():
    try:
        import faiss
    except ImportError as exc:  # pragma: no cover - faiss-cpu is a core dependency
        raise EngineError("the ANN index needs faiss-cpu: pip install faiss-cpu") from exc
    return faiss


@contextmanager
def omp_threads(n: int):
    """faiss's OpenMP threads for the calling thread only (libgomp keeps the setting per thread), restored
    after. A single query scans its lists on one thread anyway (see the module's docstring)."""
    faiss = _faiss()
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(n)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def _rows(vectors, a: int, b: int) -> np.ndarray:
    """Rows a..b-1 as contiguous float32 (dequantised when the vectors are int8)."""
    return np.ascontiguousarray(np.asarray(vectors[a:b], dtype=np.float32))


KINDS = ("ivf-sq8", "ivf", "hnsw")


def _kind_of(index) -> str:
    faiss = _faiss()
    if isinstance(index, faiss.IndexIVFScalarQuantizer):
        return "ivf-sq8"
    return "ivf" if hasattr(index, "nlist") else "hnsw"     # HNSW indexes saved before IVF carry no kind


class ItemIndex:
    """An IVF (or HNSW) inner-product index over item vectors; row i of the index is item i.
    `vectors`: the item vectors the index was built from (float32 or int8 `QuantizedVectors`); an
    ivf-sq8 index re-ranks its short list exactly against them (without them, by its codes only)."""

    def __init__(self, index, params: IndexParams, tuning: dict | None = None, vectors=None):
        self.index, self.params = index, params
        self.tuning = tuning or {}       # nprobe -> recall@100 on the build's sample queries
        self.vectors = vectors

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
        if len(q) <= SINGLE_QUERY_BATCH:
            with omp_threads(1):
                return self._search(q, k)
        return self._search(q, k)

    def _search(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        refine = self.params.kind == "ivf-sq8" and self.vectors is not None and self.params.refine > 1
        if refine:
            ids, _ = self._probe(q, min(self.n_items, k * int(self.params.refine)))
            return self._rerank(q, ids, k)
        ids, sims = self._probe(q, k)
        return ids.astype(np.int64), sims

    def _rerank(self, q: np.ndarray, ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k best of `ids` by exact inner product with the item vectors (-1 ids stay last)."""
        ids = ids.astype(np.int64)
        valid = ids >= 0
        rows = np.asarray(self.vectors[np.where(valid, ids, 0).ravel()], np.float32).reshape(*ids.shape, -1)
        sims = np.einsum("bkd,bd->bk", rows, q)
        sims[~valid] = -np.inf
        order = np.argsort(-sims, axis=1, kind="stable")[:, :k]
        ids, sims = np.take_along_axis(ids, order, 1), np.take_along_axis(sims, order, 1).astype(np.float32)
        ids[~np.isfinite(sims)] = -1
        return ids, sims

    def _probe(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if self.params.kind == "hnsw":
            self.index.hnsw.efSearch = max(self.params.ef_search, k)
        else:
            self.index.nprobe = max(1, min(self.params.nprobe or 1, self.index.nlist))
        sims, ids = self.index.search(q, k)
        if self.params.kind != "hnsw":
            # the probed lists can hold fewer than k items: probe more for those queries (a caller asking
            # for k candidates gets k while the catalogue has them)
            nprobe = int(self.index.nprobe)
            while nprobe < self.index.nlist and (short := np.flatnonzero((ids < 0).any(axis=1))).size:
                nprobe = min(2 * nprobe, int(self.index.nlist))
                self.index.nprobe = nprobe
                sims[short], ids[short] = self.index.search(np.ascontiguousarray(q[short]), k)
            self.index.nprobe = max(1, min(self.params.nprobe or 1, self.index.nlist))
        return ids, sims

    def add(self, vectors, *, progress=None, cancel=None, chunk: int = 20_000) -> None:
        """Append items (in place): their index rows continue the item numbering."""
        n = len(vectors)
        for a in range(0, n, chunk):
            check(cancel)
            self.index.add(_rows(vectors, a, min(n, a + chunk)))
            if progress is not None:
                progress(StepProgress("indexing items", min(n, a + chunk), n))
        if self.vectors is not None and len(self.vectors) < self.n_items:
            self.vectors = None     # they no longer cover every row: attach the grown matrix again to re-rank

    def tune(self, vectors, queries: np.ndarray, *, k: int = 100, progress=None, cancel=None) -> int:
        """Set nprobe to the smallest power of two (or nlist) whose recall@k against exact search on
        `queries` reaches params.target_recall; record every tried value's recall in `tuning`."""
        exact_ids, _ = exact_search(vectors, queries, k)
        nlist, nprobe, tuning = int(self.index.nlist), 1, {}
        while True:
            check(cancel)
            self.params = replace(self.params, nprobe=nprobe)
            got = recall(self.search(queries, k)[0], exact_ids)
            tuning[str(nprobe)] = round(got, 5)
            if progress is not None:
                progress(StepProgress("tuning nprobe", min(nprobe, nlist), nlist))
            if got >= self.params.target_recall or nprobe >= nlist:
                break
            nprobe = min(2 * nprobe, nlist)
        self.tuning = {"queries": len(queries), "k": k, "recall_by_nprobe": tuning}
        return nprobe

    def save(self, directory: Path) -> Path:
        """Write index.faiss (temp name, then rename: never a half-written index under the real name)."""
        faiss = _faiss()
        directory = Path(directory)
        tmp = directory / (INDEX_FILE + ".part")
        faiss.write_index(self.index, str(tmp))
        (directory / (INDEX_META + ".part")).write_text(json.dumps({"n_items": self.n_items, **asdict(self.params),
                                                                    "tuning": self.tuning}))
        os.replace(directory / (INDEX_META + ".part"), directory / INDEX_META)
        os.replace(tmp, directory / INDEX_FILE)
        return directory / INDEX_FILE

    @classmethod
    def load(cls, directory: Path, vectors=None) -> "ItemIndex | None":
        """The index saved in `directory`, or None when there is none; `vectors`: the run's item vectors
        (what an ivf-sq8 index re-ranks against)."""
        directory = Path(directory)
        if not (directory / INDEX_FILE).exists():
            return None
        meta = json.loads((directory / INDEX_META).read_text()) if (directory / INDEX_META).exists() else {}
        index = _faiss().read_index(str(directory / INDEX_FILE))
        params = IndexParams(**{k: meta[k] for k in asdict(IndexParams()) if k in meta and k != "kind"},
                             kind=_kind_of(index))
        return cls(index, params, meta.get("tuning"), vectors)


def index_info(directory: Path) -> dict | None:
    """What index.json says about the index in `directory` (None when there is none), with a one-line
    `summary` for status lines: kind, lists, the chosen nprobe and its recall@100 at build time."""
    directory = Path(directory)
    if not (directory / INDEX_FILE).exists() or not (directory / INDEX_META).exists():
        return None
    meta = json.loads((directory / INDEX_META).read_text())
    kind, nprobe = meta.get("kind", "ivf"), meta.get("nprobe")
    curve = (meta.get("tuning") or {}).get("recall_by_nprobe") or {}
    got = curve.get(str(nprobe))
    info = {"kind": kind, "n_items": meta.get("n_items"), "nlist": meta.get("nlist"), "nprobe": nprobe,
            "recall": got, "tuning_queries": (meta.get("tuning") or {}).get("queries")}
    if kind == "hnsw":
        info["summary"] = f"HNSW, efSearch {meta.get('ef_search')}"
    else:
        rec = f", recall@100 {got:.3f} vs exact" if got is not None else ""
        info["summary"] = f"{kind.upper()}, {meta.get('nlist'):,} lists, nprobe {nprobe}{rec}"
    return info


def index_serves(directory: Path) -> bool:
    """True when the run in `directory` has an ANN index over all of its items and at least
    ANN_MIN_ITEMS of them: its picks then read a few hundred item vectors, so a model can leave the
    rest in its file (`rows_on_demand`, engine.retrieval.vector_rows). Exact scoring would read them all per pick."""
    info = index_info(directory)
    if info is None or (info.get("n_items") or 0) < ANN_MIN_ITEMS:
        return False
    try:
        return json.loads((Path(directory) / "model.json").read_text()).get("n_items") == info["n_items"]
    except (OSError, ValueError):
        return False


def build_index(vectors, params: IndexParams | None = None, *, queries: np.ndarray | None = None,
                progress=None, cancel=None, chunk: int = 20_000, seed: int = 0) -> ItemIndex:
    """Build an index over (n, d) unit-length vectors (float32 or int8 `QuantizedVectors`), in chunks so
    progress is reported and a cancel is honoured between them. IVF: spherical k-means on a sample (and,
    for ivf-sq8, the 8-bit code ranges), then the items, then nprobe tuned on `queries` (default: user-like mixtures of the items) unless
    params.nprobe is given."""
    faiss = _faiss()
    params = params or IndexParams()
    n, d = vectors.shape
    if params.kind == "hnsw":
        index = faiss.IndexHNSWFlat(int(d), params.m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = params.ef_construction
        item_index = ItemIndex(index, params)
        item_index.add(vectors, progress=progress, cancel=cancel, chunk=chunk)
        return item_index
    if params.kind not in KINDS:
        raise EngineError(f"unknown index kind {params.kind!r}: use one of {', '.join(KINDS)}")
    nlist = params.nlist or auto_nlist(n)
    rng = np.random.default_rng(seed)
    if progress is not None:
        progress(StepProgress("training index lists", 0, 1))
    sample = np.sort(rng.choice(n, min(n, 64 * nlist), replace=False))
    train = np.ascontiguousarray(np.asarray(vectors[sample], dtype=np.float32))
    quantizer = faiss.IndexFlatIP(int(d))
    if params.kind == "ivf-sq8":
        index = faiss.IndexIVFScalarQuantizer(quantizer, int(d), int(nlist), faiss.ScalarQuantizer.QT_8bit,
                                              faiss.METRIC_INNER_PRODUCT)
    else:
        index = faiss.IndexIVFFlat(quantizer, int(d), int(nlist), faiss.METRIC_INNER_PRODUCT)
    index.cp.spherical = True
    index.cp.niter = 10
    index.train(train)
    del train
    check(cancel)
    item_index = ItemIndex(index, replace(params, nlist=int(nlist)), vectors=vectors)
    item_index.add(vectors, progress=progress, cancel=cancel, chunk=chunk)
    if not params.nprobe:
        if queries is None:
            queries = mixtures(vectors, 200, rng)
        item_index.tune(vectors, queries, progress=progress, cancel=cancel)
    return item_index


def mixtures(vectors, n: int, rng: np.random.Generator, per: int = 10) -> np.ndarray:
    """User-like tuning queries when no user vectors are given: the normalised mean of `per` random items."""
    rows = rng.integers(0, len(vectors), (n, per))
    q = np.asarray(vectors[rows.ravel()], np.float32).reshape(n, per, -1).mean(axis=1)
    return (q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)).astype(np.float32)


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
