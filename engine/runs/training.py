"""The training job: `run_training(config, store, progress, cancel)` fits a model on the time-aware
holdout, evaluates it on TEST, and saves + registers it atomically (engine.runs.saving.save_and_register).

A plain function with plain-data inputs and outputs, so the GUI can run it in a `spawn` child process
(TrainConfig is a plain dataclass; progress receives engine.types.EpochStats / StepProgress). For a
baseline model it delegates to engine.runs.baselines.fit_baseline."""
from __future__ import annotations

import dataclasses
import json
import platform
import time
from dataclasses import dataclass, field

from engine.data.aggregates import keep_loaded_counts
from engine.data.dataset import load_dataset
from engine.data.split import time_split
from engine.errors import EngineError
from engine.evaluation.protocol import evaluate
from engine.jobs.cancel import CancelToken, check, no_progress
from engine.models.lstm.model import LSTMConfig
from engine.models.lstm.warm import WarmStart
from engine.models.registry import get_model_class
from engine.runs.baselines import fit_baseline
from engine.runs.distributed import require_ray, train_distributed
from engine.runs.loaded import run_path
from engine.runs.saving import save_and_register
from engine.store import Store
from engine.store import repository as repo
from engine.store.ownership import database_folder
from engine.tfquiet import quiet_import

TF_MODELS = ("lstm", "lstm_ease")   # trained here with TensorFlow; the others are numpy baselines


_LSTM = LSTMConfig()   # the model's defaults are the command's: one place, not two that drift apart


@dataclass
class TrainConfig:
    dataset: str
    model: str = "lstm"
    objective: str = _LSTM.objective    # "softmax" (in-batch, logQ) or "paper" (cosine -> sigmoid, BCE)
    epochs: int = _LSTM.epochs
    batch_size: int = _LSTM.batch_size
    embedding_dim: int = _LSTM.embedding_dim
    text_dim: int = _LSTM.text_dim
    text_units: int = _LSTM.text_units
    user_units: int = _LSTM.user_units
    max_len: int = _LSTM.max_len
    learning_rate: float = _LSTM.learning_rate
    temperature: float = _LSTM.temperature
    negatives: int = _LSTM.negatives
    patience: int = _LSTM.patience
    refit: bool = _LSTM.refit
    use_item_ids: bool = _LSTM.use_item_ids
    tune: bool = True             # choose the LSTM's settings on validation first (Optuna, successive halving)
    budget_s: float = 0.0         # tuning: optional upper bound in seconds (0: none, the same choice at any load)
    max_trials: int = 0           # tuning: settings tried, the work budget (0: tuning.DEFAULT_TRIALS)
    seed: int = 42
    device: str = "auto"          # "auto" | "cpu" | "gpu"
    holdout: bool = True
    mixed_precision: bool = True  # on GPU only
    workers: int = 1              # > 1: data-parallel on Ray (engine.runs.distributed), LSTM only
    ray_address: str | None = None  # join this Ray cluster; None: start a local one
    extra: dict = field(default_factory=dict)  # further LSTMConfig fields (text_len, max_tokens, ...)
    warm_start: int | None = None  # fine-tune this finished LSTM run on its dataset's current data

    def model_params(self) -> dict:
        d = dataclasses.asdict(self)
        extra = d.pop("extra")
        for k in ("dataset", "model", "device", "holdout", "mixed_precision", "workers", "ray_address", "warm_start"):
            d.pop(k)
        return {**d, **extra}


@dataclass(frozen=True)
class RunSummary:
    run_id: int
    model: str
    device: str
    device_name: str
    seconds: float
    metrics: dict
    epochs: list[dict]


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "CPU"


def available_devices() -> list[tuple[str, str]]:
    """[("cpu", "<CPU name>"), ("gpu", "<GPU name>"), ...] as TensorFlow sees them (imports TensorFlow)."""
    tf = quiet_import()
    out = [("cpu", _cpu_name())]
    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            name = tf.config.experimental.get_device_details(gpu).get("device_name") or gpu.name
        except Exception:  # noqa: BLE001 - details are best effort
            name = gpu.name
        out.append(("gpu", name))
    return out


def resolve_device(requested: str) -> tuple[str, str, str]:
    """(kind "cpu"/"gpu", its name, TensorFlow device string); a clear error when a GPU is forced but absent."""
    requested = (requested or "auto").lower()
    if requested not in ("auto", "cpu", "gpu"):
        raise EngineError(f"unknown device {requested!r}; choose auto, cpu or gpu")
    if requested == "cpu":
        return "cpu", _cpu_name(), "/CPU:0"
    gpus = [d for d in available_devices() if d[0] == "gpu"]
    if gpus:
        return "gpu", gpus[0][1], "/GPU:0"
    if requested == "gpu":
        raise EngineError("a GPU was requested but TensorFlow sees none on this machine "
                          "(install the `gpu` extra with CUDA drivers, or choose device 'cpu' or 'auto')")
    return "cpu", _cpu_name(), "/CPU:0"


def examples_folder(store: Store, dataset_id: int):
    """Where a dataset's exported training examples live (engine.models.lstm.examples), beside its
    catalogue embeddings; one sub-folder per training set, reused while the data is unchanged."""
    return database_folder(store, "examples") / f"dataset-{int(dataset_id)}"


def training_data(store: Store, dataset: str | int, *, holdout: bool = True, progress=None, cancel=None):
    """(dataset, split): the dataset and its time split (None without holdout). With a split, the
    dataset returned is the split's TRAIN (the same catalogue and info): the whole interaction table
    (20 bytes an interaction) is freed as soon as the split exists, instead of being held through
    training and evaluation, where only TRAIN, the TEST items and the dataset's info are read.
    While the whole table is loaded, the explorer's counts are kept as a by-product when absent
    (engine.data.aggregates.keep_loaded_counts), before the split (one block's temporaries at a time)."""
    ds = load_dataset(store, dataset)
    keep_loaded_counts(store, ds, progress=progress, cancel=cancel)
    if not holdout:
        return ds, None
    split = time_split(ds)
    return split.train, split


WARM_START_EPOCHS = 2


def warm_start_config(store: Store, config: TrainConfig) -> tuple[TrainConfig, dict]:
    """The config of a warm start from run `config.warm_start`: its dataset, holdout and model settings,
    `config.epochs` epochs (no tuning, no early stopping: the parent chose its settings)."""
    with store.session() as s:
        info = repo.get_run(s, config.warm_start)
    if info.model != "lstm":
        raise EngineError(f"run {info.id} is a {info.model} run: warm start fine-tunes LSTM runs")
    if config.workers > 1 or config.ray_address:
        raise EngineError("a warm start trains on one machine: drop --workers / --ray-address")
    if config.dataset and config.dataset not in (info.dataset_name, str(info.dataset_id)):
        raise EngineError(f"run {info.id} was trained on {info.dataset_name!r}, not {config.dataset!r}: "
                          f"a warm start continues on the run's own dataset")
    directory = run_path(store, info)
    try:
        params = json.loads((directory / "model.json").read_text())["params"]
    except (OSError, KeyError, ValueError):
        raise EngineError(f"run {info.id} has no readable model files in {directory}") from None
    params = {**params, "epochs": config.epochs, "tune": False, "patience": 0, "refit": False}
    new = dataclasses.replace(config, dataset=info.dataset_name, model="lstm", holdout=info.holdout, tune=False,
                              patience=0, refit=False, **{k: params[k] for k in ("objective",) if k in params})
    return new, {"params": params, "directory": directory}


def run_training(config: TrainConfig, store: Store, progress=None, cancel: CancelToken | None = None) -> RunSummary:
    """Train, evaluate on TEST (when holdout), save and register. Nothing is registered or left on disk
    when cancelled (CancelledError) or failing."""
    progress = progress or no_progress
    parent = None
    if config.warm_start is not None:
        config, parent = warm_start_config(store, config)
    distributed = config.workers > 1 or bool(config.ray_address)
    if distributed:
        if config.model != "lstm":
            raise EngineError(f"--workers applies to the LSTM; {config.model} is fitted on one machine")
        require_ray()
    if config.model not in TF_MODELS:
        run_id = fit_baseline(store, config.dataset, config.model, holdout=config.holdout, progress=progress,
                              cancel=cancel)
        with store.session() as s:
            info = repo.get_run(s, run_id)
        return RunSummary(run_id=run_id, model=info.model, device=info.device or "cpu",
                          device_name=info.device_name or "", seconds=info.seconds or 0.0,
                          metrics=info.metrics, epochs=[])


    kind, device_name, tf_device = resolve_device("cpu" if distributed else config.device)
    start = time.perf_counter()
    ds, split = training_data(store, config.dataset, holdout=config.holdout, progress=progress,
                              cancel=cancel)
    model = get_model_class(config.model)(**(config.model_params() if parent is None else parent["params"]))
    model.device = tf_device
    if parent is not None:
        model.warm_start = WarmStart.from_run_dir(parent["directory"], config.warm_start)
    model.example_cache = examples_folder(store, ds.info.id)
    model.catalogue_store = store
    mixed = kind == "gpu" and config.mixed_precision
    cluster = None
    if distributed:
        cluster = train_distributed(model, split.train if split is not None else ds, workers=config.workers,
                                    address=config.ray_address, progress=progress, cancel=cancel)
        device_name = f"{config.workers} Ray workers ({', '.join(cluster['hosts'])})"
    else:
        if mixed:
            import keras
            keras.mixed_precision.set_global_policy("mixed_float16")
        try:
            model.fit(split.train if split is not None else ds, progress=progress, cancel=cancel)
        finally:
            if mixed:
                keras.mixed_precision.set_global_policy("float32")
    check(cancel)
    metrics = evaluate(model, split, progress=progress, cancel=cancel) if split is not None else {}
    check(cancel)
    seconds = time.perf_counter() - start
    run_config = {**dataclasses.asdict(config), "dataset": ds.info.name, **model.params(),
                  "best_epoch": model.best_epoch, "mixed_precision": mixed, "trials": model.trials}
    if cluster is not None:
        run_config["distributed"] = cluster
    run_id = save_and_register(store, dataset=ds, model=model, objective=model.config.objective, config=run_config,
                               holdout=config.holdout, device=kind, device_name=device_name, seconds=seconds,
                               metrics=metrics, epochs=model.epochs, progress=progress, cancel=cancel)
    return RunSummary(run_id=run_id, model=config.model, device=kind, device_name=device_name, seconds=seconds,
                      metrics=metrics, epochs=list(model.epochs))
