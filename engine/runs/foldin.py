"""Incremental learning without a retrain: fold new items and new users into a finished run.

* New users need nothing: the user tower encodes any history, so a user appended to the dataset
  (`llmrec import --append`) gets recommendations from their history at once.
* New items (appended after the run was trained) get vectors from their text through the run's own
  item tower (the saved Keras model; the cold-start id row, as for items never seen in training):
  a text-LSTM run tokenises them with its vocabulary, a MiniLM run encodes them with the encoder
  (or takes their vectors from the catalogue cache) and applies its trained projection.
  `fold_in_items` registers a new run whose item matrix is the old one plus these rows, and extends a
  copy of the run's ANN index in place (no rebuild).

Until a run is folded in, items newer than it are ignored in histories and never recommended.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from engine.encoder.catalogue import ENCODER_NAMES, MODEL_NAME, cached_vectors, encoder_by_name
from engine.errors import EngineError
from engine.evaluation.protocol import evaluate
from engine.jobs.cancel import check
from engine.models.lstm.text import tokenize_with_vocabulary
from engine.retrieval.index import ItemIndex
from engine.retrieval.quantize import QuantizedVectors
from engine.runs.loaded import load_run, run_path
from engine.runs.saving import save_and_register
from engine.types import StepProgress


def trained_item_encoder(recorded: str) -> str:
    """The pretrained encoder a MiniLM run's item tower was trained on: the cache name its config records
    (engine.models.lstm.model resolves "auto" by catalogue size at training time); a run saved before the
    choice was recorded says "auto" and was trained on the full MiniLM."""
    return recorded if recorded in ENCODER_NAMES.values() else MODEL_NAME


def encode_item_texts(run_dir: Path, texts: list[str], *, batch: int = 4096, cancel=None,
                      text_vectors: np.ndarray | None = None) -> np.ndarray:
    """(len(texts), d) unit vectors from the run's item tower with the cold-start id row (imports
    TensorFlow). A text-LSTM run tokenises with its own vocabulary; a MiniLM run reads the encoder's
    vectors of the texts (`text_vectors` when the caller has them, e.g. from the catalogue cache, else
    encoded here) under its trained projection."""
    import keras
    run_dir = Path(run_dir)
    if not (run_dir / "model.keras").exists():
        raise EngineError(f"{run_dir} has no model.keras: new items need the run's item tower")
    params = json.loads((run_dir / "model.json").read_text()).get("params", {})
    encoder = params.get("text_encoder", "lstm")
    full = keras.saving.load_model(run_dir / "model.keras", safe_mode=True, compile=False)
    tower = full.get_layer("item_tower")
    if encoder == "minilm":
        if text_vectors is None:
            name = trained_item_encoder(params.get("item_encoder", "auto"))
            text_vectors = encoder_by_name(name, "keras").encode(texts, 64, cancel=cancel)
        inputs = np.asarray(text_vectors, np.float32)
    else:
        vocab = json.loads((run_dir / "vocabulary.json").read_text())
        inputs = tokenize_with_vocabulary(texts, vocab, int(tower.inputs[0].shape[1]))
    out = []
    for a in range(0, len(texts), batch):
        check(cancel)
        ids = np.zeros(len(inputs[a:a + batch]), np.int32)             # the shared cold-start id row
        out.append(np.asarray(tower([inputs[a:a + batch], ids], training=False), np.float32))
    return np.vstack(out) if out else np.zeros((0, tower.outputs[0].shape[-1]), np.float32)


def fold_in_items(store, run_id: int, *, progress=None, cancel=None) -> int:
    """A new run: `run_id` plus vectors for the items added to its dataset since it was trained (and its
    ANN index extended with them when it has one). Returns the new run's id."""
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
    cached = None
    if model.config.text_encoder == "minilm":
        cached = cached_vectors(store, ds, range(old, new), trained_item_encoder(model.config.item_encoder))
    vectors = encode_item_texts(directory, [ds.item_text(i) for i in range(old, new)], cancel=cancel,
                                text_vectors=cached)
    if progress is not None:
        progress(StepProgress("encoding new items", new - old, new - old))
    if isinstance(model.item_matrix, QuantizedVectors):
        add = QuantizedVectors.from_float(vectors)
        model.item_matrix = QuantizedVectors(np.vstack([model.item_matrix.codes, add.codes]),
                                             np.concatenate([model.item_matrix.scales, add.scales]))
    else:
        model.item_matrix = np.vstack([model.item_matrix, vectors])
    if getattr(model, "id_index", None) is not None:        # the new items read the cold-start id row
        model.id_index = np.concatenate([model.id_index, np.zeros(new - old, np.int32)])
    import keras
    model.keras_model = keras.saving.load_model(directory / "model.keras", safe_mode=True, compile=False)
    check(cancel)
    metrics = evaluate(model, loaded.split, progress=progress, cancel=cancel) if loaded.split is not None else {}
    config = dict(loaded.info.config, folded_from=run_id, folded_items=new - old)
    index = ItemIndex.load(directory)
    if index is not None and index.n_items == old:          # extend a copy: the old run keeps its own
        index.add(vectors, progress=progress, cancel=cancel)
    else:
        index = None
    # the extended index is written with the model, before the run is registered: a failure leaves no run
    return save_and_register(store, dataset=ds, model=model, objective=loaded.info.objective, config=config,
                             holdout=loaded.info.holdout, device="cpu", device_name="CPU (fold-in)",
                             seconds=time.perf_counter() - start, metrics=metrics, epochs=None,
                             also_write=None if index is None else index.save)
