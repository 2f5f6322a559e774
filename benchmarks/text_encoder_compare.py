"""The LSTM two-tower with its text read by a text LSTM trained from scratch ("lstm") or by the
pretrained encoder's frozen vectors under a trainable projection ("minilm"), in one run, same budget:
validation NDCG@10 (the early-stopping split carved from TRAIN; best epoch) and test NDCG@10
(docs/evaluation.md holdout), per dataset.

    nice -n 10 .venv/bin/python benchmarks/text_encoder_compare.py [--datasets demo,movietweetings,x-wines] [--epochs 6]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from engine.data.split import time_split  # noqa: E402
from engine.evaluation.protocol import evaluate  # noqa: E402


def load(name: str):
    if name == "demo":
        from engine.data.dataset import Dataset
        from engine.data.demo import generate_demo
        from engine.types import DatasetInfo
        d = generate_demo()
        info = DatasetInfo(0, "demo", len(d["user_ids"]), len(d["item_ids"]), len(d["user_idx"]), 1.0, 5.0, 4.0)
        return Dataset(info, np.array(d["user_ids"], dtype=object), np.array(d["item_ids"], dtype=object), d["titles"],
                       d["genres"], d["descriptions"], d["user_idx"], d["item_idx"], d["rating"], d["timestamp"], 4.0)
    from cold_start import load as load_real
    return load_real(name)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default="demo,movietweetings,x-wines")
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--encoders", default="lstm,minilm")
    args = ap.parse_args()
    from engine.models.lstm.model import LSTMRecommender
    for name in args.datasets.split(","):
        split = time_split(load(name))
        for enc in args.encoders.split(","):
            start = time.perf_counter()
            model = LSTMRecommender(text_encoder=enc, epochs=args.epochs)
            model.fit(split.train)
            val = [e["val_ndcg10"] for e in model.epochs if e.get("val_ndcg10") is not None]
            test = evaluate(model, split)
            print(f"{name:15} {enc:7} val NDCG@10 {max(val) if val else float('nan'):.4f} (best of {len(val)} epochs)  "
                  f"test NDCG@10 {test['ndcg@10']:.4f}  recall@10 {test['recall@10']:.4f}  "
                  f"{time.perf_counter() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
