"""The item space the policies diversify in and ILD is measured in, as similarities of many lists at once.

A catalogue small enough (FULL_MATRIX_ITEMS) keeps the whole item-item cosine matrix: a block of lists'
similarities is then one gather (MovieTweetings' 10,506 items: 441 MB, built once). A larger one keeps the
unit vectors and multiplies per block."""
from __future__ import annotations

import numpy as np

from engine.errors import EngineError
from engine.evaluation.metrics import genre_vectors, l2_normalise
from engine.explore.similarity import model_vectors

FULL_MATRIX_ITEMS = 12_000
SPACES = ("model", "genres")


class ItemSpace:
    """Unit item vectors and, for a small catalogue, their full cosine matrix."""

    def __init__(self, vectors: np.ndarray, name: str) -> None:
        self.name = name
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        n = self.vectors.shape[0]
        self.matrix = self.vectors @ self.vectors.T if n <= FULL_MATRIX_ITEMS else None

    def block(self, lists: np.ndarray) -> np.ndarray:
        """(B, L, L) similarities of each row's items (B, L)."""
        lists = np.asarray(lists, dtype=np.int64)
        if self.matrix is not None:
            return self.matrix[lists[:, :, None], lists[:, None, :]]
        v = self.vectors[lists]
        return np.einsum("bid,bjd->bij", v, v)

    def ild(self, lists: np.ndarray) -> np.ndarray:
        """(B,) intra-list diversity: mean 1 - cosine over the pairs of each list."""
        sims = self.block(lists).astype(np.float64)
        L = lists.shape[1]
        if L < 2:
            return np.full(lists.shape[0], np.nan)
        iu = np.triu_indices(L, 1)
        return (1.0 - sims[:, iu[0], iu[1]]).mean(axis=1)


def item_space(space: str, *, dataset, model) -> ItemSpace:
    """``model``: the system model's own item vectors (genres when it has none, e.g. MostPopular);
    ``genres``: the dataset's genre multi-hot rows, L2-normalised."""
    if space not in SPACES:
        raise EngineError(f"unknown space {space!r} for the simulator; choose one of {', '.join(SPACES)}")
    if space == "model" and model is not None and model.item_vectors() is not None:
        return ItemSpace(np.asarray(model_vectors(model)), "model")
    return ItemSpace(l2_normalise(genre_vectors(dataset)), "genres")
