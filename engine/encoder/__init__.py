"""A pretrained sentence encoder (all-MiniLM-L6-v2): weights pinned by sha256, run in numpy or Keras."""
from engine.encoder.model import DIM, EncodeProgress, SentenceEncoder, load_encoder
from engine.encoder.weights import MODEL_NAME

__all__ = ["DIM", "EncodeProgress", "MODEL_NAME", "SentenceEncoder", "load_encoder"]
