"""The Keras two-tower network (imports TensorFlow: call only from training code).

Item tower: token ids -> Embedding -> LSTM -> Dense(tanh) [+ item-id embedding] -> L2 norm; or, with
``text_vectors``, the frozen pretrained encoder's vectors (all-MiniLM-L6-v2) -> Dense(tanh) [+ id] -> L2 norm.
User tower: the last L item vectors (+ rating feature, presence flag) -> Masking -> LSTM -> Dense -> L2 norm.
`dropout` (training only) drops item-vector units before the norm and the user LSTM's inputs.
Head (objective "paper"): cosine -> Dense(1, sigmoid). Built only from stock layers, so the saved
`.keras` file loads with `safe_mode=True` and no custom objects."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.models.lstm.numpy_tower import NumpyUserTower


@dataclass
class Towers:
    item: Any   # keras.Model([tokens (U, T) int32, item_id (U,) int32]) -> (U, d)
    user: Any   # keras.Model(history (B, L, d + 2)) -> (B, d)
    head: Any   # keras.Model(cos (B, 1)) -> (B, 1) probability
    full: Any   # all three in one model, for saving


def build_towers(*, n_tokens: int, text_len: int, n_ids: int, dim: int, text_dim: int, text_units: int,
                 user_units: int, max_len: int, use_item_ids: bool, id_init: float = 0.05,
                 dense_bias: bool = True, dropout: float = 0.0, text_vectors: bool = False) -> Towers:
    import keras
    from keras import layers

    item_id = keras.Input((), dtype="int32", name="item_id")
    if text_vectors:        # fixed sentence vectors in, a trainable projection on top
        tokens = keras.Input((text_len,), dtype="float32", name="tokens")
        x = tokens
    else:
        tokens = keras.Input((text_len,), dtype="int32", name="tokens")
        x = layers.Embedding(n_tokens, text_dim, mask_zero=True, name="token_embedding")(tokens)
        x = layers.LSTM(text_units, name="text_lstm")(x)
    x = layers.Dense(dim, activation="tanh", use_bias=dense_bias, name="text_dense")(x)
    if use_item_ids:
        e = layers.Embedding(n_ids, dim, embeddings_initializer=keras.initializers.RandomNormal(stddev=id_init),
                             name="id_embedding")(item_id)
        x = layers.Add(name="text_plus_id")([x, e])
    if dropout > 0:
        x = layers.Dropout(dropout, name="item_dropout")(x)
    v = layers.UnitNormalization(name="item_norm")(x)
    item = keras.Model([tokens, item_id], v, name="item_tower")

    history = keras.Input((max_len, dim + 2), dtype="float32", name="history")
    h = layers.Masking(0.0, name="padding")(history)
    h = layers.LSTM(user_units, dropout=dropout, name="user_lstm")(h)
    h = layers.Dense(dim, use_bias=dense_bias, name="user_dense")(h)
    u = layers.UnitNormalization(name="user_norm")(h)
    user = keras.Model(history, u, name="user_tower")

    cos = keras.Input((1,), dtype="float32", name="cosine")
    p = layers.Dense(1, activation="sigmoid", name="head_dense",
                     kernel_initializer=keras.initializers.Constant(5.0))(cos)
    head = keras.Model(cos, p, name="head")

    full = keras.Model([tokens, item_id, history, cos], [item([tokens, item_id]), user(history), head(cos)],
                       name="lstm_two_tower")
    return Towers(item=item, user=user, head=head, full=full)


def export_user_tower(towers: Towers):
    """The user tower's weights as a NumpyUserTower (pure numpy inference)."""
    lstm = towers.user.get_layer("user_lstm")
    dense = towers.user.get_layer("user_dense")
    k, rk, b = (w.numpy() if hasattr(w, "numpy") else w for w in
                (lstm.cell.kernel, lstm.cell.recurrent_kernel, lstm.cell.bias))
    weights = dense.get_weights()
    dk, db = weights[0], (weights[1] if len(weights) > 1 else np.zeros(weights[0].shape[1], np.float32))
    return NumpyUserTower(np.asarray(k, np.float32), np.asarray(rk, np.float32), np.asarray(b, np.float32),
                          np.asarray(dk, np.float32), np.asarray(db, np.float32))


def head_weights(towers: Towers) -> tuple[float, float]:
    w, b = towers.head.get_layer("head_dense").get_weights()
    return float(w.reshape(-1)[0]), float(b.reshape(-1)[0])
