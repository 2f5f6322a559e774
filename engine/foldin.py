"""Incremental learning without a retrain: fold new items and new users into a finished run.

* New users need nothing: the user tower encodes any history, so a user appended to the dataset
  (`llmrec import --append`) gets recommendations from their history at once.
* New items (appended after the run was trained) get vectors from their text through the run's own
  item tower (the saved Keras model; the cold-start id row, as for items never seen in training).
  `fold_in_items` registers a new run whose item matrix is the old one plus these rows, and extends a
  copy of the run's ANN index in place (HNSW takes new rows; no rebuild).

Until a run is folded in, items newer than it are ignored in histories and never recommended.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from .errors import EngineError
from .jobs import check
from .types import StepProgress


def encode_item_texts(run_dir: Path, texts: list[str], *, batch: int = 4096, cancel=None) -> np.ndarray:
    """(len(texts), d) unit vectors from the run's item tower, text only (imports TensorFlow)."""
    import keras
    run_dir = Path(run_dir)
    if not (run_dir / "model.keras").exists():
        raise EngineError(f"{run_dir} has no model.keras: new items need the run's item tower")
    params = json.loads((run_dir / "model.json").read_text()).get("params", {})
    if params.get("text_encoder", "lstm") != "lstm":
        raise EngineError(f"{run_dir}: fold-in of new items needs a run whose item tower reads text with its own "
                          f"LSTM (train with --text-encoder lstm); this run reads {params['text_encoder']} vectors: "
                          f"retrain it to include the new items")
    full = keras.saving.load_model(run_dir / "model.keras", safe_mode=True, compile=False)
    tower = full.get_layer("item_tower")
    text_len = int(tower.inputs[0].shape[1])
    vocab = json.loads((run_dir / "vocabulary.json").read_text())
    if vocab[:2] == ["", "[UNK]"]:
        vocab = vocab[2:]
    vec = keras.layers.TextVectorization(output_sequence_length=text_len, standardize="lower_and_strip_punctuation",
                                         vocabulary=vocab)
    out = []
    for a in range(0, len(texts), batch):
        check(cancel)
        tokens = np.asarray(vec(texts[a:a + batch]), np.int32)
        ids = np.zeros(len(tokens), np.int32)                 # the shared cold-start id row
        out.append(np.asarray(tower([tokens, ids], training=False), np.float32))
    return np.vstack(out) if out else np.zeros((0, tower.outputs[0].shape[-1]), np.float32)


def fold_in_items(store, run_id: int, *, progress=None, cancel=None) -> int:
    """A new run: `run_id` plus vectors for the items added to its dataset since it was trained (and its
    ANN index extended with them when it has one). Returns the new run's id."""
    from .evaluation import evaluate
    from .index import ItemIndex
    from .quantize import QuantizedVectors
    from .runs import load_run, run_path, save_and_register
    start = time.perf_counter()
    loaded = load_run(store, run_id)
    model, ds = loaded.model, loaded.dataset
    if not hasattr(model, "user_tower"):
        raise EngineError(f"run {run_id} ({loaded.info.model}) has no item tower: refit it instead")
    old, new = model.n_items, ds.n_items
    if new <= old:
        raise EngineError(f"run {run_id} already covers all {new:,} items of {ds.info.name!r}: nothing to fold in")
    directory = run_path(store, loaded.info)
    if progress is not None:
        progress(StepProgress("encoding new items", 0, new - old))
    vectors = encode_item_texts(directory, [ds.item_text(i) for i in range(old, new)], cancel=cancel)
    if progress is not None:
        progress(StepProgress("encoding new items", new - old, new - old))
    if isinstance(model.item_matrix, QuantizedVectors):
        add = QuantizedVectors.from_float(vectors)
        model.item_matrix = QuantizedVectors(np.vstack([model.item_matrix.codes, add.codes]),
                                             np.concatenate([model.item_matrix.scales, add.scales]))
    else:
        model.item_matrix = np.vstack([model.item_matrix, vectors])
    import keras
    model.keras_model = keras.saving.load_model(directory / "model.keras", safe_mode=True, compile=False)
    check(cancel)
    metrics = evaluate(model, loaded.split, progress=progress, cancel=cancel) if loaded.split is not None else {}
    config = dict(loaded.info.config, folded_from=run_id, folded_items=new - old)
    new_id = save_and_register(store, dataset=ds, model=model, objective=loaded.info.objective, config=config,
                               holdout=loaded.info.holdout, device="cpu", device_name="CPU (fold-in)",
                               seconds=time.perf_counter() - start, metrics=metrics, epochs=None)
    index = ItemIndex.load(directory)
    if index is not None and index.n_items == old:          # extend a copy: the old run keeps its own
        from .storage import repository as repo
        with store.session() as s:
            new_dir = run_path(store, repo.get_run(s, new_id))
        index.add(vectors, progress=progress, cancel=cancel)
        index.save(new_dir)
    return new_id
