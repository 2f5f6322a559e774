"""Data-parallel LSTM training on a Ray cluster: Ray Train's TensorflowTrainer starts N workers and
sets their TF_CONFIG; each worker runs the ordinary training loop (models/lstm/trainer.train_towers)
under tf.distribute.MultiWorkerMirroredStrategy on its own shard of the exported training arrays.

The driver (this process: the CLI, or the app's training child process) exports the arrays once,
puts each worker's shard in Ray's object store (a worker fetches only its own), merges the workers'
progress into the caller's progress callback, and gets the trained weights back from worker 0. The
model, its evaluation and its registration are the same as a one-machine run: one ordinary run.

Ray is optional (`pip install -e '.[distributed]'`); `require_ray` says so in one line."""
from __future__ import annotations

import hashlib
import os
import queue as std_queue
import socket
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from engine.errors import CancelledError, EngineError
from engine.jobs.cancel import CancelToken
from engine.models.lstm.trainer import train_towers, training_arrays
from engine.types import EpochStats

INSTALL_HINT = "pip install -e '.[distributed]'  (or: pip install 'ray[train]')"


def require_ray():
    """Import Ray Train, or a one-line error naming exactly what to install."""
    try:
        import ray  # noqa: F401
        from ray.train.tensorflow import TensorflowTrainer  # noqa: F401
    except ImportError as exc:
        raise EngineError(f"training on several workers needs Ray Train, which is not installed ({exc.name}): "
                          f"{INSTALL_HINT}") from None
    return ray


@dataclass
class WorkerReport:
    """What each worker says at the end: which shard it read, and a digest of its final weights."""
    rank: int
    examples: int
    shard_digest: str
    weights_digest: str
    host: str


@dataclass
class DistributedLog:
    """Filled while training: the per-worker reports of each train_towers call (refit included)."""
    workers: int
    address: str
    reports: list[list[WorkerReport]] = field(default_factory=list)
    shard_digests: list[list[str]] = field(default_factory=list)

    def summary(self) -> dict:
        last = self.reports[-1] if self.reports else []
        return {"workers": self.workers, "address": self.address,
                "shard_digests": self.shard_digests[-1] if self.shard_digests else [],
                "examples_per_worker": [r.examples for r in last],
                "hosts": sorted({r.host for r in last}),
                "weights_identical": bool(last) and len({r.weights_digest for r in last}) == 1,
                "shards_read_as_assigned": [[r.shard_digest for r in rep] for rep in self.reports]
                == self.shard_digests}


def digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha1()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


class _SavedKeras:
    """The Keras model file worker 0 wrote, standing in for the model in `LSTMRecommender.save`."""

    def __init__(self, data: bytes):
        self.data = data

    def save(self, path) -> None:
        Path(path).write_bytes(self.data)


def _worker_loop(config: dict) -> None:
    """Runs on every Ray Train worker (TF_CONFIG already set by Ray's TensorFlow backend)."""

    import ray
    import ray.train
    import tensorflow as tf


    ctx = ray.train.get_context()
    rank = ctx.get_world_rank()
    events = config["events"]
    tf.config.threading.set_inter_op_parallelism_threads(1)
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    arrays = ray.get(config["shards"][rank])          # this worker's shard only
    common = ray.get(config["common"])
    arrays.items, arrays.feats = common["items"], common["feats"]
    arrays.id_index, arrays.log_q = common["id_index"], common["log_q"]

    class Cancel:    # the driver's cancel, polled at train_towers' (collective) check points
        @property
        def cancelled(self) -> bool:
            return ray.get(config["control"].cancelled.remote())

    def progress(update: EpochStats) -> None:
        if rank == 0:
            events.put(("progress", update))

    fitted = train_towers(config["cfg"], None, common["tokens"], epochs=config["epochs"],
                          validation=common["validation"], progress=progress, cancel=Cancel(),
                          device="/CPU:0", epoch_offset=config["epoch_offset"],
                          total_epochs=config["total_epochs"], arrays=arrays, strategy=strategy, rank=rank)
    weights = [np.asarray(w) for w in fitted.keras_model.get_weights()]
    events.put(("worker", WorkerReport(rank=rank, examples=len(arrays),
                                       shard_digest=digest(arrays.pos, arrays.target),
                                       weights_digest=digest(*weights), host=socket.gethostname())))
    if rank == 0:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.keras"
            fitted.keras_model.save(path)
            keras_bytes = path.read_bytes()
        fitted.keras_model = None
        events.put(("fitted", (fitted, keras_bytes)))


def _control_actor():
    import ray

    @ray.remote(num_cpus=0)
    class Control:
        def __init__(self):
            self.flag = False

        def cancel(self):
            self.flag = True

        def cancelled(self) -> bool:
            return self.flag

    return Control


class RayTowerTrainer:
    """A drop-in for `train_towers` (same call) that trains on `workers` Ray workers. Starts a local
    Ray cluster when `address` is empty, joins the cluster at `address` otherwise."""

    starts_warm = False     # its workers build fresh towers: the refit after validation retrains from scratch

    def __init__(self, workers: int, address: str | None = None, cpus_per_worker: float = 1.0):
        if workers < 1:
            raise EngineError(f"--workers must be at least 1, not {workers}")
        self.workers, self.address, self.cpus = int(workers), address or "", cpus_per_worker
        self.log = DistributedLog(self.workers, self.address or "local")
        self._started_ray = False
        self._scratch: tempfile.TemporaryDirectory | None = None

    def __enter__(self):
        ray = require_ray()
        os.environ.setdefault("RAY_TRAIN_V2_ENABLED", "1")
        if not ray.is_initialized():
            try:
                if self.address:
                    ray.init(address=self.address, log_to_driver=False)
                else:
                    ray.init(num_cpus=max(int(self.workers * self.cpus), 1), include_dashboard=False,
                             log_to_driver=False)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise EngineError(f"cannot reach the Ray cluster at {self.address or 'a new local cluster'}: "
                                  f"{exc}") from None
            self._started_ray = True
        # Ray Train's own run records (no checkpoints: the weights come back over the event queue)
        self._scratch = tempfile.TemporaryDirectory(prefix="llmrec-ray-")
        return self

    def __exit__(self, *exc):
        if self._started_ray:
            import ray
            ray.shutdown()
        if self._scratch is not None:
            self._scratch.cleanup()

    def __call__(self, cfg, train, tokens, *, epochs, validation, progress, cancel: CancelToken | None, device,
                 epoch_offset: int = 0, total_epochs: int | None = None, arrays=None):
        import ray
        from ray.train import RunConfig, ScalingConfig
        from ray.train.tensorflow import TensorflowTrainer
        from ray.util.queue import Queue


        arrays = arrays if arrays is not None else training_arrays(train)
        n = len(arrays)
        if n < self.workers:
            raise EngineError(f"only {n} training examples for {self.workers} workers")
        shards = [arrays.shard(rows) for rows in shard_rows(n, self.workers, cfg.seed)]
        self.log.shard_digests.append([digest(s.pos, s.target) for s in shards])
        for s in shards:
            s.items = s.feats = s.id_index = s.log_q = None       # shared once, in `common`
        common = {"tokens": tokens, "items": np.asarray(arrays.items), "feats": np.asarray(arrays.feats),
                  "id_index": arrays.id_index, "log_q": arrays.log_q, "validation": validation}
        events = Queue()
        control = _control_actor().remote()
        config = {"cfg": cfg, "epochs": epochs, "epoch_offset": epoch_offset, "total_epochs": total_epochs,
                  "shards": [ray.put(s) for s in shards], "common": ray.put(common), "events": events,
                  "control": control}
        trainer = TensorflowTrainer(
            _worker_loop, train_loop_config=config,
            scaling_config=ScalingConfig(num_workers=self.workers, use_gpu=False,
                                         resources_per_worker={"CPU": self.cpus}),
            run_config=RunConfig(name=f"llmrec-lstm-{len(self.log.reports)}", storage_path=self._scratch.name))
        outcome: dict = {}

        def fit():
            try:
                trainer.fit()
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                outcome["error"] = exc
            finally:
                outcome["done"] = True

        runner = threading.Thread(target=fit, daemon=True)
        runner.start()
        reports, fitted = [], None
        cancel_sent = False
        while True:
            if cancel is not None and cancel.cancelled and not cancel_sent:
                control.cancel.remote()
                cancel_sent = True
            try:
                kind, payload = events.get(timeout=0.2)
            except std_queue.Empty:
                if outcome.get("done") and events.empty():
                    break
                continue
            except Exception:  # noqa: BLE001 - ray.util.queue raises its own Empty
                if outcome.get("done") and events.empty():
                    break
                continue
            if kind == "progress":
                progress(payload)
            elif kind == "worker":
                reports.append(payload)
            elif kind == "fitted":
                fitted = payload
        runner.join()
        ray.kill(control)
        events.shutdown()
        if cancel_sent:
            raise CancelledError()
        if "error" in outcome:
            raise EngineError(f"distributed training failed: {_root_cause(outcome['error'])}") from outcome["error"]
        if fitted is None or len(reports) != self.workers:
            raise EngineError(f"distributed training ended without a result ({len(reports)} of {self.workers} "
                              "workers reported)")
        self.log.reports.append(sorted(reports, key=lambda r: r.rank))
        result, keras_bytes = fitted
        result.keras_model = _SavedKeras(keras_bytes)
        return result


def shard_rows(n: int, workers: int, seed: int) -> list[np.ndarray]:
    """Disjoint, equal-sized, randomly drawn row sets, one per worker (equal sizes: every worker takes
    the same number of steps, as the collectives need); the n % workers rows left over are not used."""
    order = np.random.default_rng(seed).permutation(n)
    per = n // workers
    return [np.sort(order[r * per:(r + 1) * per]) for r in range(workers)]


def _root_cause(exc: BaseException) -> str:
    while exc.__cause__ is not None:
        exc = exc.__cause__
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__


def train_distributed(model, train, *, workers: int, address: str | None, progress: Callable | None = None,
                      cancel: CancelToken | None = None) -> dict:
    """Fit `model` (an LSTMRecommender) data-parallel; returns the run's `distributed` summary."""
    with RayTowerTrainer(workers, address) as trainer:
        model.tower_trainer = trainer
        try:
            model.fit(train, progress=progress, cancel=cancel)
        finally:
            model.tower_trainer = None
    return trainer.log.summary()
