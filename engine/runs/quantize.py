"""`llmrec quantize`: a new run whose item vectors are int8 (engine.retrieval.quantize), evaluated on
the same holdout as the run it comes from."""
from __future__ import annotations

import time

from engine.errors import EngineError
from engine.evaluation.protocol import evaluate
from engine.jobs.cancel import check
from engine.runs.loaded import load_run
from engine.runs.saving import save_and_register


def quantize_run(store, run_id: int, *, progress=None, cancel=None) -> int:
    """A new run: `run_id`'s model with int8 item vectors, evaluated on the same holdout. Returns its id."""
    loaded = load_run(store, run_id)
    model = loaded.model
    if not hasattr(model, "quantize"):
        raise EngineError(f"run {run_id} ({loaded.info.model}) has no item vectors to quantise")
    start = time.perf_counter()
    model.quantize()
    check(cancel)
    metrics = evaluate(model, loaded.split, progress=progress, cancel=cancel) if loaded.split is not None else {}
    config = dict(loaded.info.config, item_vectors="int8", quantized_from=run_id)
    return save_and_register(store, dataset=loaded.dataset, model=model, objective=loaded.info.objective,
                             config=config, holdout=loaded.info.holdout, device="cpu",
                             device_name="CPU (numpy)", seconds=time.perf_counter() - start, metrics=metrics,
                             epochs=None)
