"""Item-item similarity in three spaces, for heatmaps, "more like this" and list diversity.

Spaces
------
``model``   cosine of the trained model's item embeddings (``model.item_vectors()``).
``text``    cosine of TF-IDF vectors over the item text (title, genres/tags, description); fitted
            once per dataset with numpy and cached.
``semantic`` cosine of the pretrained sentence encoder's vectors of the item text (all-MiniLM-L6-v2,
            ``engine.encoder``): "close in meaning". Available once the catalogue is encoded and
            attached (``attach_semantic(store, dataset)``).
``genres``  Jaccard similarity ``|A n B| / |A u B|`` of the genre/tag sets. The source article's
            "Jaccard diversity index" ``|A u B| / |A n B|`` is undefined for disjoint sets, so we use
            the Jaccard *distance* ``1 - J`` wherever a diversity is needed. Pairs involving an item
            with no genre are NaN (unknown), and are skipped by ``ild``.

Sparse rows are plain numpy CSR/CSC arrays (no scipy); "against all items" is computed through
the inverted index, in batches of query items, so it works on a large catalogue.
"""
from __future__ import annotations

import re
import weakref
from collections import Counter
from dataclasses import dataclass

import numpy as np

from engine.data.grouped_rows import GroupedRows, distinct_codes
from engine.encoder.catalogue import catalogue_encoder, load_catalogue_vectors
from engine.errors import EngineError
from engine.retrieval.vector_rows import VectorRows

SPACES = ("model", "text", "genres", "semantic")
VECTOR_SPACES = ("model", "semantic")   # dense unit rows: similarity is one matrix product
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_STOP = frozenset("a an and are as at be by for from in into is it of on or the to with".split())
_cache: dict[tuple, object] = {}


def _cached(owner: object, key: str, build):
    """Cache ``build()`` for as long as ``owner`` (a Dataset or model) is alive."""
    full = (id(owner), key)
    hit = _cache.get(full)
    if hit is None:
        hit = _cache[full] = build()
        weakref.finalize(owner, _cache.pop, full, None)
    return hit


@dataclass(frozen=True)
class SparseRows:
    """Rows as CSR (``indptr``, ``indices``, ``data``) plus the same matrix by column (CSC)."""
    n_rows: int
    n_cols: int
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    col_ptr: np.ndarray
    col_rows: np.ndarray
    col_data: np.ndarray

    @classmethod
    def from_lists(cls, rows: list[list[int]], weights: list[list[float]], n_cols: int) -> "SparseRows":
        lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        indices = np.fromiter((c for r in rows for c in r), dtype=np.int64, count=int(indptr[-1]))
        data = np.fromiter((w for r in weights for w in r), dtype=np.float32, count=int(indptr[-1]))
        return cls.from_csr(indptr, indices, data, n_cols)

    @classmethod
    def from_csr(cls, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, n_cols: int) -> "SparseRows":
        lengths = np.diff(indptr)
        row_of = np.repeat(np.arange(len(lengths)), lengths)
        by_col = np.lexsort((row_of, indices))
        col_ptr = np.concatenate([[0], np.cumsum(np.bincount(indices, minlength=n_cols))])
        return cls(len(lengths), n_cols, indptr, indices, data, col_ptr, row_of[by_col], data[by_col])

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        a, b = self.indptr[i], self.indptr[i + 1]
        return self.indices[a:b], self.data[a:b]

    def dense_rows(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The given rows as a dense matrix over the union of their columns (and those columns)."""
        parts = [self.row(int(i)) for i in rows]
        cols = np.unique(np.concatenate([p[0] for p in parts])) if parts else np.zeros(0, np.int64)
        out = np.zeros((len(parts), len(cols)), dtype=np.float32)
        for r, (c, d) in enumerate(parts):
            out[r, np.searchsorted(cols, c)] = d
        return out, cols

    def dot_all(self, i: int) -> np.ndarray:
        """Row ``i`` dotted with every row: (n_rows,) through the inverted index."""
        cols, w = self.row(i)
        if len(cols) == 0:
            return np.zeros(self.n_rows, dtype=np.float32)
        starts, ends = self.col_ptr[cols], self.col_ptr[cols + 1]
        lens = ends - starts
        take = np.repeat(ends - lens.cumsum(), lens) + np.arange(lens.sum())
        weights = np.repeat(w, lens) * self.col_data[take]
        return np.bincount(self.col_rows[take], weights=weights, minlength=self.n_rows).astype(np.float32)


def _tokens(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(text.lower()) if t not in _STOP]


COMMON_SHARE = 0.5      # a word in at least this share of the items' texts tells no two of them apart
COMMON_SAMPLE = 2000    # items read to find those words (evenly spread over the catalogue)


def common_words(dataset) -> frozenset[str]:
    """Words in at least half of the items' texts: the labels of a templated description ("body:",
    "acidity:", "country:" in every wine) and the like, which say nothing about two items; cached."""
    def build() -> frozenset[str]:
        n = dataset.n_items
        picks = np.unique(np.linspace(0, n - 1, min(n, COMMON_SAMPLE)).astype(np.int64)) if n else []
        df: Counter = Counter()
        for i in picks:
            df.update(set(_tokens(dataset.item_text(int(i)))))
        return frozenset(w for w, c in df.items() if c >= COMMON_SHARE * len(picks) and len(picks) >= 4)
    return _cached(dataset, "common_words", build)


def text_index(dataset) -> SparseRows:
    """TF-IDF (sublinear tf, smooth idf, L2-normalised rows) over each item's text; cached per dataset."""
    def build() -> SparseRows:
        vocab: dict[str, int] = {}
        rows, counts = [], []
        for i in range(dataset.n_items):
            toks = _tokens(dataset.item_text(i))
            ids, cnt = np.unique(np.fromiter((vocab.setdefault(t, len(vocab)) for t in toks), dtype=np.int64,
                                             count=len(toks)), return_counts=True)
            rows.append(ids)
            counts.append(cnt)
        df = np.bincount(np.concatenate(rows) if rows else np.zeros(0, np.int64), minlength=len(vocab))
        idf = np.log((1 + dataset.n_items) / (1 + df)) + 1.0
        weights = []
        for ids, cnt in zip(rows, counts):
            w = (1.0 + np.log(cnt)) * idf[ids]
            norm = np.linalg.norm(w)
            weights.append(w / norm if norm > 0 else w)
        return SparseRows.from_lists([r.tolist() for r in rows], [w.tolist() for w in weights], len(vocab))
    return _cached(dataset, "tfidf", build)


def genre_index(dataset) -> tuple[SparseRows, list[str]]:
    """Genre/tag sets as 0/1 sparse rows, with the genre names; cached per dataset."""
    def build():
        # a catalogue has few distinct genre sets: index those once, then gather per item (a million
        # items took 10 s item by item; this is one pass of dict lookups plus numpy)
        distinct: dict[tuple, int] = {}
        which = np.fromiter((distinct.setdefault(gs, len(distinct)) for gs in dataset.genres), dtype=np.int64,
                            count=dataset.n_items)
        names = sorted({g for gs in distinct for g in gs})
        pos = {g: j for j, g in enumerate(names)}
        rows = [sorted({pos[g] for g in gs}) for gs in distinct]
        u_len = np.array([len(r) for r in rows], dtype=np.int64)
        u_ptr = np.concatenate([[0], np.cumsum(u_len)])
        u_ind = np.fromiter((c for r in rows for c in r), dtype=np.int64, count=int(u_ptr[-1]))
        lengths = u_len[which]
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        take = np.repeat(u_ptr[which] - indptr[:-1], lengths) + np.arange(indptr[-1])
        indices = u_ind[take]
        return SparseRows.from_csr(indptr, indices, np.ones(len(indices), np.float32), len(names)), names
    return _cached(dataset, "genres", build)


def genre_matrix(dataset) -> "GroupedRows":
    """(n_items, n_genres) multi-hot float32, the genre space of ILD (docs/evaluation.md), held as the
    catalogue's distinct genre rows plus one code per item (``engine.data.grouped_rows``): ``gm[rows]`` gives
    the dense rows. A million items with a few hundred distinct genre sets is ~4 MiB, not a dense
    ~100 MiB matrix (nor the CSR/CSC index, built only for the ``genres`` similarity space)."""
    def build():
        return genre_rows(dataset.genres)
    return _cached(dataset, "genre_matrix", build)


def genre_rows(genres) -> "GroupedRows":
    """GroupedRows of a sequence of genre tuples (sorted genre names as columns)."""
    distinct, codes = distinct_codes(genres)
    names = sorted({g for gs in distinct for g in gs})
    pos = {g: j for j, g in enumerate(names)}
    dense = np.zeros((len(distinct), len(names)), dtype=np.float32)
    for r, gs in enumerate(distinct):
        for g in gs:
            dense[r, pos[g]] = 1.0
    return GroupedRows(dense, codes)


def genre_mix(rows: np.ndarray) -> np.ndarray:
    """A history's genre distribution (unnormalised): each item spreads weight 1 over its genres."""
    rows = np.asarray(rows, dtype=np.float64)
    sums = rows.sum(axis=1, keepdims=True)
    return np.divide(rows, sums, out=np.zeros(rows.shape), where=sums > 0).sum(axis=0)


def model_vectors(model) -> np.ndarray:
    """The model's L2-normalised item embeddings as float32; cached per model object."""
    def build():
        v = model.item_vectors() if model is not None else None
        if v is None:
            raise EngineError("this model has no item embeddings; use the text or genre space instead")
        if isinstance(v, VectorRows):
            return v            # int8 or on-disk rows of unit vectors: used as they are, read on demand
        v = np.asarray(v, dtype=np.float32)
        norms = np.sqrt(np.einsum("ij,ij->i", v, v))[:, None]        # no (n, d) temporary
        if np.allclose(norms[norms > 0], 1.0, atol=1e-4):
            return v            # already unit rows (the two-tower model's): no copy of a large catalogue
        return np.divide(v, norms, out=np.zeros_like(v), where=norms > 0)
    if model is None:
        raise EngineError("the model space needs a trained model")
    return _cached(model, "vectors", build)


def set_semantic_vectors(dataset, vectors: np.ndarray, encoder: str = "all-MiniLM-L6-v2") -> None:
    """Register the dataset's encoder vectors (unit rows) as its ``semantic`` space; ``encoder`` is the
    cache name of the encoder that made them (queries must be encoded by the same one)."""
    v = np.asarray(vectors, dtype=np.float32)
    if v.shape[0] != dataset.n_items:
        raise EngineError(f"semantic vectors have {v.shape[0]} rows for {dataset.n_items} items")
    _cache.pop((id(dataset), "semantic"), None)
    _cache.pop((id(dataset), "semantic-encoder"), None)
    _cached(dataset, "semantic", lambda: v)
    _cached(dataset, "semantic-encoder", lambda: encoder)


def semantic_encoder_name(dataset) -> str:
    """Cache name of the encoder behind the dataset's ``semantic`` space (the full MiniLM by default)."""
    return _cache.get((id(dataset), "semantic-encoder"), "all-MiniLM-L6-v2")


def semantic_vectors(dataset) -> np.ndarray:
    """The dataset's registered encoder vectors; a clear error when the catalogue is not encoded."""
    def missing():
        raise EngineError(f"the semantic space of {dataset.info.name!r} is not available: encode the catalogue "
                          f"first (`llmrec encode --dataset {dataset.info.name}`, or Encode in the app)")
    return _cached(dataset, "semantic", missing)


def has_semantic(dataset) -> bool:
    return (id(dataset), "semantic") in _cache


def space_vectors(space: str, *, dataset, model=None) -> np.ndarray:
    """Unit rows of a vector space (``model`` or ``semantic``)."""
    return model_vectors(model) if space == "model" else semantic_vectors(dataset)


def similarity_matrix(items, space: str, *, dataset, model=None) -> np.ndarray:
    """(k, k) float32 similarity of the given items (cosine, or Jaccard for ``genres``)."""
    items = np.asarray(items, dtype=np.int64)
    _check_space(space)
    if space in VECTOR_SPACES:
        v = space_vectors(space, dataset=dataset, model=model)[items]
        return v @ v.T
    if space == "text":
        dense, _ = text_index(dataset).dense_rows(items)
        return dense @ dense.T
    dense, _ = genre_index(dataset)[0].dense_rows(items)
    inter = dense @ dense.T
    sizes = dense.sum(axis=1)
    union = sizes[:, None] + sizes[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(union > 0, inter / union, np.nan).astype(np.float32)
    empty = sizes == 0
    out[empty, :] = np.nan
    out[:, empty] = np.nan
    return out


def similarity_to_all(item: int, space: str, *, dataset, model=None) -> np.ndarray:
    """(n_items,) float32 similarity of one item to every item of the catalogue."""
    _check_space(space)
    if space in VECTOR_SPACES:
        v = space_vectors(space, dataset=dataset, model=model)
        return v @ v[int(item)]
    if space == "text":
        return text_index(dataset).dot_all(int(item))
    idx = genre_index(dataset)[0]
    inter = idx.dot_all(int(item))
    sizes = np.diff(idx.indptr).astype(np.float32)
    union = sizes + sizes[int(item)] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / union, 0.0).astype(np.float32)


def nearest_items(items, space: str, *, dataset, model=None, n: int = 10, exclude=None,
                  batch: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """"More like this": for each query item its ``n`` most similar items (itself and ``exclude``
    left out), most similar first. Returns (indices (q, n) int64, similarities (q, n) float32).
    Model- and semantic-space queries run as (batch x n_items) matrix products, so memory stays bounded."""
    _check_space(space)
    q = np.atleast_1d(np.asarray(items, dtype=np.int64))
    n_items = dataset.n_items
    n = int(min(n, max(n_items - 1, 0)))
    excl = np.zeros(n_items, dtype=bool)
    if exclude is not None:
        excl[np.asarray(exclude, dtype=np.int64)] = True
    out_i = np.zeros((len(q), n), dtype=np.int64)
    out_s = np.zeros((len(q), n), dtype=np.float32)
    for start in range(0, len(q), batch):
        chunk = q[start:start + batch]
        if space in VECTOR_SPACES:
            v = space_vectors(space, dataset=dataset, model=model)
            sims = v[chunk] @ v.T
        else:
            sims = np.stack([similarity_to_all(int(i), space, dataset=dataset) for i in chunk])
        sims[:, excl] = -np.inf
        sims[np.arange(len(chunk)), chunk] = -np.inf
        top = _top_n(sims, n)
        out_i[start:start + len(chunk)] = top
        out_s[start:start + len(chunk)] = np.take_along_axis(sims, top, axis=1)
    return out_i, out_s


def _top_n(sims: np.ndarray, n: int) -> np.ndarray:
    """Indices of the n largest per row, largest first, ties by lower index."""
    if n <= 0:
        return np.zeros((sims.shape[0], 0), dtype=np.int64)
    part = np.argpartition(-sims, n - 1, axis=1)[:, :n] if n < sims.shape[1] else \
        np.tile(np.arange(sims.shape[1]), (sims.shape[0], 1))
    vals = np.take_along_axis(sims, part, axis=1)
    order = np.lexsort((part, -vals), axis=1)
    return np.take_along_axis(part, order, axis=1)


def mean_pairwise_similarity(sim: np.ndarray) -> float:
    """The source article's diversity figure: mean similarity over the list's item pairs (lower is
    more diverse). NaN pairs (items with no genre) are skipped; NaN when no pair is left."""
    k = sim.shape[0]
    if k < 2:
        return float("nan")
    vals = sim[np.triu_indices(k, 1)]
    vals = vals[~np.isnan(vals)]
    return float(vals.mean()) if len(vals) else float("nan")


def ild(sim: np.ndarray) -> float:
    """Intra-list diversity: mean over item pairs of (1 - similarity), NaN pairs skipped."""
    m = mean_pairwise_similarity(sim)
    return 1.0 - m if m == m else float("nan")


def cosine_matrix(vectors: np.ndarray) -> np.ndarray:
    """(k, k) cosine of arbitrary rows; pairs with a zero row are NaN (skipped by ``ild``)."""
    v = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(v, axis=1)
    u = np.divide(v, norms[:, None], out=np.zeros_like(v), where=norms[:, None] > 0)
    out = u @ u.T
    zero = norms == 0
    out[zero, :] = np.nan
    out[:, zero] = np.nan
    return out


def _check_space(space: str) -> None:
    if space not in SPACES:
        raise ValueError(f"unknown similarity space {space!r}; choose one of {', '.join(SPACES)}")


def attach_semantic(store, dataset) -> np.ndarray:
    """Load the catalogue's encoded vectors (engine.encoder.catalogue) and register them, with their
    encoder's name, as the dataset's ``semantic`` similarity space."""
    name = catalogue_encoder(store, dataset)
    vectors = load_catalogue_vectors(store, dataset, name)
    set_semantic_vectors(dataset, vectors, encoder=name)
    return vectors
