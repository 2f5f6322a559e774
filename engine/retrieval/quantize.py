"""int8 item vectors with one float32 scale per vector: 4x smaller than float32 (plus 4 bytes a row).

Symmetric per-row quantisation: scale_i = max_j |x_ij| / 127, code_ij = round(x_ij / scale_i). A row's
largest component is exact and every other is within scale_i / 2, so cosines move by well under 1 %
for d = 128 unit vectors. `QuantizedVectors` behaves like the (n, d) float32 matrix where the engine
uses one (row gathers, `x @ v.T`, `v @ x`), dequantising only the rows or blocks it touches, so a
million-item catalogue never exists in float32 at once.

`quantize_run` turns a finished run into a new run with int8 item vectors, evaluated on the same
holdout, so `llmrec evaluate` / `llmrec runs` show the float32 and int8 runs side by side.
"""
from __future__ import annotations

import numpy as np

from engine.retrieval.vector_rows import BLOCK, VectorRows


class QuantizedVectors(VectorRows):
    """(n, d) int8 codes + (n,) float32 scales, standing in for a float32 matrix (engine.retrieval.vector_rows)."""

    def __init__(self, codes: np.ndarray, scales: np.ndarray):
        self.codes = np.ascontiguousarray(codes, dtype=np.int8)
        self.scales = np.ascontiguousarray(scales, dtype=np.float32)

    @classmethod
    def from_float(cls, x: np.ndarray) -> "QuantizedVectors":
        x = np.asarray(x, np.float32)
        scales = np.abs(x).max(axis=1) / 127.0
        safe = np.where(scales > 0, scales, 1.0)
        codes = np.clip(np.rint(x / safe[:, None]), -127, 127).astype(np.int8)
        return cls(codes, scales)

    @property
    def shape(self) -> tuple[int, int]:
        return self.codes.shape

    @property
    def nbytes(self) -> int:
        return self.codes.nbytes + self.scales.nbytes

    def __getitem__(self, key) -> np.ndarray:
        """Rows (any index numpy accepts for the first axis), dequantised to float32."""
        if isinstance(key, tuple):
            rows = self[key[0]]
            return rows[(slice(None),) * (rows.ndim - 1) + key[1:]] if len(key) > 1 else rows
        codes, scales = self.codes[key], self.scales[key]
        return codes.astype(np.float32) * np.asarray(scales, np.float32)[..., None]

    def _block(self, a: int, b: int) -> np.ndarray:
        return self[a:b]

    def _gather(self, ids: np.ndarray) -> np.ndarray:
        return self[ids]

    def dot_rows(self, x: np.ndarray) -> np.ndarray:
        """x @ self.T, (B, d) -> (B, n): scaled after the product, block by block."""
        x = np.asarray(x, np.float32)
        out = np.empty((x.shape[0], len(self)), np.float32)
        for a in range(0, len(self), BLOCK):
            b = min(len(self), a + BLOCK)
            out[:, a:b] = (x @ self.codes[a:b].T.astype(np.float32)) * self.scales[a:b]
        return out
