"""all-MiniLM-L6-v2 as a Keras 3 layer (keras.ops only): batch-encodes catalogues on CPU or GPU in the
same stack as training, and can be fine-tuned (``trainable_layers``) or sit inside the item tower."""
from __future__ import annotations

import functools

import numpy as np

from engine.tfquiet import quiet_import


def minilm_layer(weights: dict[str, np.ndarray], heads: int = 12, trainable_layers: int = 0):
    """The Keras layer holding these weights (keras is imported here, never at engine import time)."""
    return _layer_class()(weights, heads=heads, trainable_layers=trainable_layers)


@functools.cache
def _layer_class():
    quiet_import()                  # Keras loads TensorFlow: without its C++ start-up log (unless --verbose)
    import keras
    from keras import ops

    class MiniLMEncoder(keras.layers.Layer):
        """(token ids, mask) -> mean-pooled, L2-normalised sentence vectors, weights from safetensors."""

        def __init__(self, weights: dict[str, np.ndarray], heads: int = 12, trainable_layers: int = 0, **kw):
            super().__init__(**kw)
            self.heads = heads
            self.n_layers = sum(1 for k in weights if k.endswith("attention.self.query.weight"))
            self.w = {}
            for name, value in weights.items():
                if name.startswith("pooler") or name.endswith("position_ids"):
                    continue
                layer = int(name.split(".")[2]) if name.startswith("encoder.layer.") else -1
                trainable = layer >= self.n_layers - trainable_layers
                value = value.T if name.startswith("encoder.") and value.ndim == 2 else value  # (in, out)
                var = self.add_weight(shape=value.shape, initializer="zeros", trainable=trainable,
                                      name=name.replace(".", "_"))
                var.assign(value)
                self.w[name] = var

        def _ln(self, x, p):
            mu = ops.mean(x, axis=-1, keepdims=True)
            var = ops.mean(ops.square(x - mu), axis=-1, keepdims=True)
            return (x - mu) / ops.sqrt(var + 1e-12) * self.w[p + ".weight"] + self.w[p + ".bias"]

        def _dense(self, x, p):
            return ops.matmul(x, self.w[p + ".weight"]) + self.w[p + ".bias"]

        def call(self, ids, mask):
            w, n = self.w, ops.shape(ids)[1]
            x = (ops.take(w["embeddings.word_embeddings.weight"], ids, axis=0)
                 + w["embeddings.position_embeddings.weight"][:n] + w["embeddings.token_type_embeddings.weight"][0])
            x = self._ln(x, "embeddings.LayerNorm")
            d = x.shape[-1]
            dh = d // self.heads
            maskf = ops.cast(mask, x.dtype)
            bias = (1.0 - maskf)[:, None, None, :] * -1e9

            def split(t):
                return ops.transpose(ops.reshape(t, (-1, n, self.heads, dh)), (0, 2, 1, 3))

            for i in range(self.n_layers):
                p = f"encoder.layer.{i}."
                q, k, v = (split(self._dense(x, p + f"attention.self.{m}")) for m in ("query", "key", "value"))
                att = ops.softmax(ops.matmul(q, ops.transpose(k, (0, 1, 3, 2))) / float(np.sqrt(dh)) + bias, axis=-1)
                ctx = ops.reshape(ops.transpose(ops.matmul(att, v), (0, 2, 1, 3)), (-1, n, d))
                x = self._ln(x + self._dense(ctx, p + "attention.output.dense"), p + "attention.output.LayerNorm")
                h = ops.gelu(self._dense(x, p + "intermediate.dense"), approximate=False)
                x = self._ln(x + self._dense(h, p + "output.dense"), p + "output.LayerNorm")
            m = maskf[:, :, None]
            pooled = ops.sum(x * m, axis=1) / ops.maximum(ops.sum(m, axis=1), 1e-9)
            return pooled / ops.maximum(ops.norm(pooled, axis=1, keepdims=True), 1e-12)

    return MiniLMEncoder
