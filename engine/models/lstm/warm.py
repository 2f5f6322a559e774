"""Warm start: fine-tune a finished LSTM run on its dataset's current data (after `import --append`).

The new towers start from the parent's saved weights. Items keep their id-embedding row; items that
have a TRAIN positive now but had no row (new items, or old ones first liked since) get new rows
initialised as a copy of the cold-start row 0, so before the first step a new item's vector is
exactly its fold-in vector (engine.runs.foldin). New users need nothing: the user tower reads histories.
The text LSTM keeps the parent's vocabulary; MiniLM runs read the encoder's vectors as before."""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import EngineError
from engine.models.lstm.examples import TrainingArrays


@dataclass
class WarmStart:
    towers: Any              # the parent's Keras model (lstm_two_tower: item_tower, user_tower, head)
    id_index: np.ndarray     # the parent's item -> id-embedding row, (parent items + 1,)
    vocabulary: list[str]    # the parent's text-LSTM vocabulary ([] for MiniLM runs)

    @classmethod
    def from_run_dir(cls, directory: Path, run_id: int) -> "WarmStart":
        import keras
        directory = Path(directory)
        if not (directory / "model.keras").exists():
            raise EngineError(f"run {run_id} has no model.keras in {directory}: it cannot be warm-started")
        with np.load(directory / "model.npz", allow_pickle=False) as z:
            if "id_index" not in z.files:
                raise EngineError(f"run {run_id} was saved before warm start existed (its item-id rows are not "
                                  f"recorded): train it again once, then warm-start the new run")
            id_index = np.asarray(z["id_index"], np.int32)
        vocab_file = directory / "vocabulary.json"
        vocabulary = json.loads(vocab_file.read_text()) if vocab_file.exists() else []
        towers = keras.saving.load_model(directory / "model.keras", safe_mode=True, compile=False)
        return cls(towers, id_index, vocabulary)

    @property
    def text_len(self) -> int:
        return int(self.towers.get_layer("item_tower").inputs[0].shape[1])

    def arrays(self, a: TrainingArrays) -> TrainingArrays:
        """`a` (the new TRAIN's examples) with the parent's id rows kept and new ones after them."""
        return dataclasses.replace(a, id_index=extend_id_index(self.id_index, a.id_index))


def extend_id_index(parent: np.ndarray, current: np.ndarray) -> np.ndarray:
    """(len(current),) rows: the parent's row where it had one; a new row after the parent's last for an
    item with a TRAIN positive now (current > 0) and none before; 0 (cold start) otherwise."""
    out = np.zeros(len(current), np.int32)
    n = min(len(parent), len(current))
    out[:n] = parent[:n]
    fresh = (out == 0) & (np.asarray(current) > 0)
    fresh[0] = False
    out[fresh] = int(parent.max(initial=0)) + 1 + np.arange(int(fresh.sum()), dtype=np.int32)
    return out


def copy_weights(towers, parent) -> None:
    """Every layer of the new towers takes the parent's same-named layer's weights; the id embedding's
    extra rows start as copies of the parent's cold-start row 0."""
    for model in (towers.item, towers.user, towers.head):
        old = parent.get_layer(model.name)
        for layer in model.layers:
            if not layer.weights:
                continue
            weights = old.get_layer(layer.name).get_weights()
            if layer.name == "id_embedding":
                table = weights[0]
                extra = layer.get_weights()[0].shape[0] - table.shape[0]
                if extra < 0:
                    raise EngineError("warm start: the parent run has more item-id rows than the new data")
                weights = [np.vstack([table, np.repeat(table[:1], extra, 0)])]
            layer.set_weights(weights)
