"""The user tower in pure numpy: an LSTM + Dense + L2 norm run on exported Keras weights, so the GUI can
re-score a user (e.g. after a "like") in milliseconds without importing TensorFlow."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * x) + 1.0)  # overflow-free logistic


def l2_normalize(x: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), as keras.layers.UnitNormalization does."""
    n = np.sqrt(np.maximum((x * x).sum(axis=-1, keepdims=True), eps))
    return (x / n).astype(np.float32)


@dataclass
class NumpyUserTower:
    """Weights of Keras' LSTM (gate order i, f, c, o; tanh / sigmoid) and the following Dense layer."""

    kernel: np.ndarray            # (n_in, 4h)
    recurrent_kernel: np.ndarray  # (h, 4h)
    bias: np.ndarray              # (4h,)
    dense_kernel: np.ndarray      # (h, d)
    dense_bias: np.ndarray        # (d,)

    def encode(self, seq: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """seq (B, L, n_in) float32, mask (B, L) bool -> (B, d) L2-normalised user vectors.
        Masked steps carry the state through unchanged, exactly like a masked Keras LSTM."""
        b, steps, _ = seq.shape
        h_dim = self.recurrent_kernel.shape[0]
        h = np.zeros((b, h_dim), np.float32)
        c = np.zeros((b, h_dim), np.float32)
        xz = seq.reshape(b * steps, -1) @ self.kernel
        xz = xz.reshape(b, steps, -1) + self.bias
        for t in range(steps):
            z = xz[:, t] + h @ self.recurrent_kernel
            i = _sigmoid(z[:, :h_dim])
            f = _sigmoid(z[:, h_dim:2 * h_dim])
            g = np.tanh(z[:, 2 * h_dim:3 * h_dim])
            o = _sigmoid(z[:, 3 * h_dim:])
            c_new = f * c + i * g
            h_new = o * np.tanh(c_new)
            m = mask[:, t:t + 1]
            c = np.where(m, c_new, c)
            h = np.where(m, h_new, h)
        return l2_normalize(h @ self.dense_kernel + self.dense_bias)

    def to_arrays(self, prefix: str = "user_") -> dict[str, np.ndarray]:
        return {prefix + k: getattr(self, k) for k in
                ("kernel", "recurrent_kernel", "bias", "dense_kernel", "dense_bias")}

    @classmethod
    def from_arrays(cls, arrays, prefix: str = "user_") -> "NumpyUserTower":
        return cls(**{k: np.asarray(arrays[prefix + k], np.float32) for k in
                      ("kernel", "recurrent_kernel", "bias", "dense_kernel", "dense_bias")})
