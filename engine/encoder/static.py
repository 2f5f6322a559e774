"""A static encoder for very large catalogues: the MiniLM's own WordPiece input embeddings, averaged
over a text's tokens and L2-normalised (Model2Vec-like: no transformer layers, pure numpy, no extra
download). Far faster than the full forward pass, and coarser: it sees words, not their context."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from engine.encoder.model import EncodeProgress
from engine.encoder.weights import ensure_files, read_verified
from engine.jobs.cancel import check

STATIC_NAME = "minilm-static"
DIM = 384
MAX_TOKENS = 256
_loaded: list["StaticEncoder"] = []


class StaticEncoder:
    """``encode(texts)`` -> (n, 384) float32 unit rows: mean of the texts' token embeddings (special
    tokens left out), the same interface as ``SentenceEncoder``."""

    name = STATIC_NAME
    dim = DIM

    def __init__(self, folder=None):
        from safetensors.numpy import load
        from tokenizers import Tokenizer
        folder = ensure_files(folder)
        table = load(read_verified(folder / "model.safetensors"))["embeddings.word_embeddings.weight"]
        # centre the table: the raw rows share a large common direction that makes every pair look alike
        table = table - table.mean(0)
        self.table = np.ascontiguousarray(table, dtype=np.float32)
        self.tokenizer = Tokenizer.from_str(read_verified(folder / "tokenizer.json").decode("utf-8"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MAX_TOKENS)

    def encode(self, texts: Sequence[str], batch_size: int = 1024, *, progress=None, cancel=None) -> np.ndarray:
        texts = [str(t) for t in texts]
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            check(cancel)
            enc = self.tokenizer.encode_batch(texts[start:start + batch_size], add_special_tokens=False)
            lengths = np.array([len(e.ids) for e in enc])
            ids = np.fromiter((t for e in enc for t in e.ids), dtype=np.int64, count=int(lengths.sum()))
            # each text's tokens are one contiguous run of `ids`: summed per run by reduceat (np.add.at did
            # the same twice as slowly: 7.7 s vs 3.8 s for 20,000 demo texts, tokenising included)
            starts = np.cumsum(lengths) - lengths
            sums = np.zeros((len(enc), DIM), dtype=np.float32)
            has = lengths > 0
            if has.any():
                sums[has] = np.add.reduceat(self.table[ids], starts[has], axis=0)
            out[start:start + len(enc)] = sums / np.maximum(lengths, 1)[:, None]
            if progress is not None:
                progress(EncodeProgress(min(start + batch_size, len(texts)), len(texts)))
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


def load_static_encoder() -> StaticEncoder:
    """The process-wide static encoder (reads the same pinned safetensors as the full model)."""
    if not _loaded:
        _loaded.append(StaticEncoder())
    return _loaded[0]
