"""BERT forward pass in plain numpy: encodes queries in the app's process, where TensorFlow must
never be imported (a one-line query takes milliseconds), and checks the Keras port independently."""
from __future__ import annotations

import numpy as np

HEADS = 12


def _erf(x: np.ndarray) -> np.ndarray:
    """erf with fractional error < 1.2e-7 (Numerical Recipes' erfc Chebyshev fit); numpy has none."""
    z = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * z)
    poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (
        0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))))
    r = t * np.exp(-z * z + poly)
    return np.where(x >= 0, 1.0 - r, r - 1.0)


def _layer_norm(x, w, b, eps=1e-12):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def prepare(weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The layer matrices as contiguous (in, out) float32 copies: 10-30x faster products than a
    transposed view of PyTorch's (out, in) layout."""
    return {k: np.ascontiguousarray(v.T) if k.startswith("encoder.") and v.ndim == 2 else v
            for k, v in weights.items()}


def _dense(x, weights, prefix):
    """Linear layer on (b, n, d) as one 2-D product."""
    w = weights[prefix + ".weight"]
    return (x.reshape(-1, x.shape[-1]) @ w).reshape(*x.shape[:-1], w.shape[1]) + weights[prefix + ".bias"]


def forward(weights: dict[str, np.ndarray], ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(batch, length) token ids and 0/1 mask -> (batch, 384) mean-pooled, L2-normalised.
    ``weights`` as returned by ``prepare``."""
    b, n = ids.shape
    x = (weights["embeddings.word_embeddings.weight"][ids] + weights["embeddings.position_embeddings.weight"][:n]
         + weights["embeddings.token_type_embeddings.weight"][0])
    x = _layer_norm(x, weights["embeddings.LayerNorm.weight"], weights["embeddings.LayerNorm.bias"])
    d = x.shape[-1]
    bias = np.where(mask[:, None, None, :] > 0, 0.0, -1e9).astype(np.float32)
    layer = 0
    while f"encoder.layer.{layer}.attention.self.query.weight" in weights:
        p = f"encoder.layer.{layer}."
        heads = [(_dense(x, weights, p + f"attention.self.{m}").reshape(b, n, HEADS, d // HEADS)
                  .transpose(0, 2, 1, 3)) for m in ("query", "key", "value")]
        q, k, v = heads
        att = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d // HEADS) + bias
        att = np.exp(att - att.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        ctx = (att @ v).transpose(0, 2, 1, 3).reshape(b, n, d)
        x = _layer_norm(x + _dense(ctx, weights, p + "attention.output.dense"),
                        weights[p + "attention.output.LayerNorm.weight"], weights[p + "attention.output.LayerNorm.bias"])
        h = _dense(x, weights, p + "intermediate.dense")
        h = 0.5 * h * (1.0 + _erf(h / np.sqrt(2.0)))
        x = _layer_norm(x + _dense(h, weights, p + "output.dense"),
                        weights[p + "output.LayerNorm.weight"], weights[p + "output.LayerNorm.bias"])
        layer += 1
    m = mask[:, :, None].astype(np.float32)
    pooled = (x * m).sum(1) / np.maximum(m.sum(1), 1e-9)
    return (pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)).astype(np.float32)
