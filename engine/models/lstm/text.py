"""Item text -> token-id table with Keras' TextVectorization (imports TensorFlow: training code only).
Each distinct item text is tokenised once, for the whole catalogue; row 0 is the padding item."""
from __future__ import annotations

import numpy as np


def tokenize_catalogue(texts: list[str], max_tokens: int, text_len: int = 0) -> tuple[np.ndarray, list[str]]:
    """(tokens (n_items + 1, T) int32 with an all-zero first row, vocabulary). `text_len` 0 picks T as the
    95th percentile of the texts' token counts (at least 4, at most 48)."""
    import keras
    if text_len <= 0:
        counts = np.array([len(t.split()) for t in texts] or [4])
        text_len = int(np.clip(np.percentile(counts, 95), 4, 48))
    vec = keras.layers.TextVectorization(max_tokens=max_tokens, output_sequence_length=text_len,
                                         standardize="lower_and_strip_punctuation")
    vec.adapt(texts, batch_size=1024)
    tokens = np.asarray(vec(texts), dtype=np.int32)
    return np.vstack([np.zeros((1, text_len), np.int32), tokens]), [str(w) for w in vec.get_vocabulary()]


def tokenize_with_vocabulary(texts: list[str], vocabulary: list[str], text_len: int) -> np.ndarray:
    """(len(texts), T) int32 token ids with a trained run's vocabulary (no padding row): new items read
    by the run's own item tower (fold-in, warm start)."""
    import keras
    vocab = list(vocabulary)
    if vocab[:2] == ["", "[UNK]"]:          # get_vocabulary() lists the padding and OOV tokens first
        vocab = vocab[2:]
    vec = keras.layers.TextVectorization(output_sequence_length=text_len, standardize="lower_and_strip_punctuation",
                                         vocabulary=vocab)
    out = [np.asarray(vec(texts[a:a + 4096]), np.int32) for a in range(0, len(texts), 4096)]
    return np.vstack(out) if out else np.zeros((0, text_len), np.int32)
