"""The sentence encoder: tokenizer + weights + a forward pass (numpy in the app, Keras for batches)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from engine.encoder.bert_keras import minilm_layer
from engine.encoder.bert_numpy import forward, prepare
from engine.encoder.weights import MODEL_NAME, ensure_files, read_verified
from engine.jobs.cancel import check

MAX_TOKENS = 256      # sentence-transformers' max_seq_length for this model
DIM = 384
BACKENDS = ("numpy", "keras")
# numpy runs on ONE BLAS thread: on a busy machine OpenBLAS threads waiting for each other cost far
# more than they bring (measured here: 36 products 7x384 @ 384x1536 took 0.02 s on one thread vs
# 1.4 s on two; 1,000 titles took 320 s of wall time for 18 s of CPU time with the default threads).
_loaded: dict[str, "SentenceEncoder"] = {}


@dataclass(frozen=True)
class EncodeProgress:
    done: int
    total: int
    stage: str = "encoding"


class SentenceEncoder:
    """``encode(texts)`` -> (n, 384) float32 unit rows, as sentence-transformers' all-MiniLM-L6-v2 does
    (mean pooling over the tokens, then L2 normalisation)."""

    name = MODEL_NAME
    dim = DIM

    def __init__(self, folder=None, backend: str = "numpy"):
        if backend not in BACKENDS:
            raise ValueError(f"unknown encoder backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        from safetensors.numpy import load
        from tokenizers import Tokenizer
        folder = ensure_files(folder)
        self.weights = load(read_verified(folder / "model.safetensors"))
        spec = read_verified(folder / "tokenizer.json").decode("utf-8")
        self.tokenizer = Tokenizer.from_str(spec)
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._unpadded = Tokenizer.from_str(spec)       # batches pad by hand, after sorting by length
        self._unpadded.enable_truncation(MAX_TOKENS)
        self._unpadded.no_padding()
        self.backend = backend
        self._keras = None
        self._numpy = None

    def tokenize(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        enc = self.tokenizer.encode_batch([str(t) for t in texts])
        return (np.array([e.ids for e in enc], dtype=np.int32), np.array([e.attention_mask for e in enc], dtype=np.int32))

    def _token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Each text's word pieces ([CLS] ... [SEP], truncated at MAX_TOKENS), unpadded."""
        return [e.ids for e in self._unpadded.encode_batch([str(t) for t in texts])]

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if self.backend == "numpy":
            if self._numpy is None:
                self._numpy = prepare(self.weights)
            from threadpoolctl import threadpool_limits
            with threadpool_limits(limits=1, user_api="blas"):
                return forward(self._numpy, ids, mask)
        if self._keras is None:
            self._keras = minilm_layer(self.weights)
        return np.asarray(self._keras(ids, mask), dtype=np.float32)

    def encode(self, texts: Sequence[str], batch_size: int = 32, *, progress=None, cancel=None,
               by_length: bool = True) -> np.ndarray:
        """(n, 384) unit rows in input order. ``by_length``: the texts are tokenised once and batched by
        token count (a batch pads only to its own longest text); False batches them in input order (the
        old pass, kept to check that sorting changes no vector)."""
        texts = list(texts)
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        if not texts:
            return out
        tokens = self._token_ids(texts)
        order = (np.argsort([len(t) for t in tokens], kind="stable") if by_length
                 else np.arange(len(texts)))
        for start in range(0, len(texts), batch_size):
            check(cancel)
            rows = order[start:start + batch_size]
            ids, mask = _pad([tokens[i] for i in rows])
            out[rows] = self._forward(ids, mask)
            if progress is not None:
                progress(EncodeProgress(min(start + batch_size, len(texts)), len(texts)))
        return out


def _pad(tokens: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Right-padded (batch, longest) ids ([PAD] = 0) and the 0/1 attention mask."""
    n = max(len(t) for t in tokens)
    ids = np.zeros((len(tokens), n), dtype=np.int32)
    mask = np.zeros((len(tokens), n), dtype=np.int32)
    for r, t in enumerate(tokens):
        ids[r, :len(t)] = t
        mask[r, :len(t)] = 1
    return ids, mask


def load_encoder(backend: str = "numpy") -> SentenceEncoder:
    """The process-wide encoder for a backend (loaded once: about 90 MB of weights)."""
    enc = _loaded.get(backend)
    if enc is None:
        enc = _loaded[backend] = SentenceEncoder(backend=backend)
    return enc
