"""The space a diversity re-ranker measures "alike" in: one setting for the app's slider, `recommend`,
`explore`, `frontier` and their exports.

``model``       the run's item vectors (what the model finds alike; a text-only model falls back to ``text``)
``categories``  the items' genres or attributes as unit multi-hot rows (cosine): the diversity people notice,
                and the space category ILD@10 is measured in (docs/evaluation.md)
``semantic``    the catalogue encoder's vectors of the item text (once the catalogue is encoded)
``text``        TF-IDF of the item text

``auto`` is the space chosen for the run on its own validation users (engine.explore.space_choice).
Every space gives the re-rankers the same thing: unit rows for the candidate items, at most N wide."""
from __future__ import annotations

import numpy as np

from engine.errors import EngineError
from engine.explore.similarity import genre_matrix, has_semantic, model_vectors, semantic_vectors, text_index

RERANK_SPACES = ("model", "categories", "semantic", "text")
AUTO = "auto"
COMPACT_RATIO = 4   # compact only spaces more than this many times wider than the rows


def compact(v: np.ndarray) -> np.ndarray:
    """Rows with the same Gram matrix in at most N dimensions (N = rows): a wide item space (EASE's
    has one dimension per item, TF-IDF one per word) shrinks to N x N, so re-ranking many users stays
    cheap. A space at most COMPACT_RATIO times wider (a two-tower model's 128 dimensions for 100
    candidates) is kept as it is: re-ranking in it costs about the same, and the N x N
    eigendecomposition would dominate a pick (measured: 0.6 of 0.8 CPU-s at 1M items on a loaded
    box, its BLAS threads fighting for the cores). The decomposition runs on one BLAS thread:
    matrices this small lose more to thread start-up and contention than they gain."""
    v = np.asarray(v, dtype=np.float32)
    if v.shape[1] <= COMPACT_RATIO * v.shape[0]:
        return v
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=1, user_api="blas"):
        w, q = np.linalg.eigh((v @ v.T).astype(np.float64))
    return (q * np.sqrt(np.clip(w, 0.0, None))).astype(np.float32)


def has_model_vectors(model) -> bool:
    try:
        model_vectors(model)
        return True
    except EngineError:
        return False


def available_spaces(dataset, model) -> list[str]:
    """The spaces this run can re-rank in now: model (when it has item vectors), categories (when items
    have genres), semantic (when the catalogue's vectors are attached), text."""
    out = []
    if has_model_vectors(model):
        out.append("model")
    if genre_matrix(dataset).shape[1] > 0:
        out.append("categories")
    if has_semantic(dataset):
        out.append("semantic")
    out.append("text")
    return out


def resolve_space(space: str, dataset, model) -> str:
    """A concrete space for ``space``: ``model`` without item vectors is ``text``; an unknown or unavailable
    space is a clear error (``auto`` is resolved by engine.explore.space_choice, not here)."""
    if space not in RERANK_SPACES:
        raise EngineError(f"unknown re-ranking space {space!r}; choose one of {', '.join(RERANK_SPACES)} or auto")
    if space == "model" and not has_model_vectors(model):
        return "text"
    if space == "categories" and genre_matrix(dataset).shape[1] == 0:
        raise EngineError(f"the items of {dataset.info.name!r} have no categories to re-rank by")
    if space == "semantic":
        semantic_vectors(dataset)            # the clear "encode the catalogue first" error
    return space


def pool_vectors(space: str, items, *, dataset, model) -> np.ndarray:
    """Unit rows of the candidate ``items`` in a concrete ``space``, compacted to at most N columns."""
    items = np.asarray(items, dtype=np.int64)
    if space == "model":
        v = model_vectors(model)[items]
    elif space == "semantic":
        v = semantic_vectors(dataset)[items]
    elif space == "categories":
        v = np.asarray(genre_matrix(dataset)[items], dtype=np.float32)
        norms = np.linalg.norm(v, axis=1, keepdims=True)
        v = np.divide(v, norms, out=np.zeros_like(v), where=norms > 0)
    elif space == "text":
        v = text_index(dataset).dense_rows(items)[0]
    else:
        raise EngineError(f"unknown re-ranking space {space!r}; choose one of {', '.join(RERANK_SPACES)}")
    return compact(np.asarray(v, dtype=np.float32))


def heatmap_space(space: str) -> str:
    """The similarity space (engine.explore.similarity) that shows a re-ranking space's "alike"."""
    return "genres" if space == "categories" else space
