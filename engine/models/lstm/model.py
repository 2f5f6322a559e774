"""LSTMRecommender: the text-aware two-tower LSTM model behind the Recommender protocol.

Training (`fit`) imports TensorFlow; everything after it (score, score_many, item_vectors, save,
load) is pure numpy on exported weights, so the GUI can re-score a user in milliseconds.

Default objective "softmax" (in-batch softmax, logQ correction, accidental hits removed), chosen on
validation NDCG@10 (benchmarks/lstm_movietweetings.py, seed 42, d=128, user LSTM 256):
MovieTweetings-100k softmax 0.142 vs paper ~0.10 (EASE 0.100); demo data softmax 0.044 vs paper 0.051
(EASE 0.042). The real data's margin decides; `paper` stays selectable. Tuning on MovieTweetings
(validation NDCG@10, no refit): temperature 0.05 / 0.1 / 0.2 -> 0.126 / 0.131 / 0.123; batch 1024 0.127;
L=50 0.130; lr 5e-4 0.125; d=128 0.138; d=128 + user LSTM 256 0.142; text LSTM 128 0.139."""
from __future__ import annotations

import dataclasses
import gc
import json
import pathlib
from dataclasses import dataclass

import numpy as np

from engine.data.dataset import Dataset
from engine.data.split import validation_split
from engine.encoder.catalogue import (
    ENCODER_CHOICES,
    ENCODER_NAMES,
    STATIC_THRESHOLD,
    choose_encoder,
    encoded_vectors,
    encoder_by_name,
)
from engine.errors import EngineError
from engine.jobs.cancel import CancelToken, no_progress
from engine.models.base import Recommender
from engine.models.lstm.examples import training_arrays
from engine.models.lstm.numpy_tower import NumpyUserTower
from engine.models.lstm.sequences import user_inputs, window
from engine.models.lstm.text import tokenize_catalogue, tokenize_with_vocabulary
from engine.models.lstm.trainer import ValidationSet, train_towers
from engine.models.lstm.tuning import tune_lstm
from engine.models.lstm.warm import WarmStart
from engine.retrieval.quantize import QuantizedVectors
from engine.retrieval.vector_rows import NpyRows
from engine.tfquiet import quiet_import
from engine.types import StepProgress

OBJECTIVES = ("softmax", "paper")
TEXT_ENCODERS = ("lstm", "minilm")


def _texts(train: Dataset) -> list[str]:
    """Every item's text, for the text LSTM's tokenizer (the pretrained encoder reads them through its cache)."""
    return [train.item_text(i) for i in range(train.n_items)]


@dataclass
class LSTMConfig:
    """Hyperparameters (defaults tuned on validation NDCG@10, see the training report)."""
    objective: str = "softmax"      # "softmax": in-batch softmax + logQ; "paper": cosine -> sigmoid, BCE
    epochs: int = 20                # upper bound; early stopping on validation NDCG@10
    patience: int = 2               # 3 ran a third epoch past the best one on MovieTweetings (issue 24, speed)
    refit: bool = True              # after early stopping, train on all of TRAIN (see warm_refit)
    warm_refit: bool = True         # the refit continues the chosen validation towers for one epoch on all of
                                    # TRAIN instead of fresh towers for the best epoch count: test NDCG@10
                                    # 0.1652 vs 0.1607 (X-Wines), 0.1287 vs 0.1261 (MovieTweetings), one
                                    # seed, untuned, at a third to a quarter of the refit's time (issue 24)
    batch_size: int = 512
    embedding_dim: int = 128
    text_dim: int = 32
    text_units: int = 64
    user_units: int = 128           # 256 cost 2.5x the CPU per example for validation NDCG@10 0.1445 vs
                                    # 0.1427 on MovieTweetings (docs/quality.md, issue 24)
    max_len: int = 20               # the user's last L interactions are their description
    text_len: int = 0               # 0: the 95th percentile of the catalogue's text lengths
    max_tokens: int = 20000
    use_item_ids: bool = True
    id_min_examples: int = 3        # an item-id row only for items that are the target of this many TRAIN
                                    # examples; the others share the cold-start row (examples.id_rows)
    id_init: float = 0.05           # stddev of the item-id embedding at start
    dense_bias: bool = True         # biases in the towers' last Dense layers
    learning_rate: float = 1e-3
    clipnorm: float = 1.0
    temperature: float = 0.1        # softmax objective (0.05 and 0.2 were worse on validation)
    dropout: float = 0.0            # training only: item-vector units and the user LSTM's inputs
    negatives: int = 4              # paper objective: uniform negatives per positive
    report_every: int = 50          # batches between within-epoch progress reports
    tune: bool = False              # choose the settings below on validation first (tuning.py, Optuna)
    budget_s: float = 0.0           # tuning: an optional upper bound in seconds (0: none; the work budget decides)
    max_trials: int = 0             # tuning: settings tried, the work budget (0: tuning.DEFAULT_TRIALS)
    seed: int = 42
    text_encoder: str = "minilm"    # "minilm": the frozen pretrained encoder's item vectors (engine.encoder)
                                    # under a trainable projection; "lstm": a text LSTM trained from scratch.
                                    # minilm won validation NDCG@10 on the demo (0.0531 vs 0.0440),
                                    # MovieTweetings (0.1433 vs 0.1423) and X-Wines (0.1448 vs 0.1432),
                                    # benchmarks/text_encoder_compare.py
    item_encoder: str = "auto"      # text_encoder "minilm": which pretrained vectors, by the catalogue search's
                                    # size rule (engine.encoder.catalogue.choose_encoder): "auto" = the full
                                    # MiniLM up to STATIC_THRESHOLD items, minilm-static above; "minilm" or
                                    # "static" force one. fit records the cache name it used here.

    def __post_init__(self):
        if self.objective not in OBJECTIVES:
            raise EngineError(f"unknown objective {self.objective!r}; choose one of {', '.join(OBJECTIVES)}")
        if self.text_encoder not in TEXT_ENCODERS:
            raise EngineError(f"unknown text encoder {self.text_encoder!r}; choose one of {', '.join(TEXT_ENCODERS)}")
        if self.item_encoder not in (*ENCODER_CHOICES, *ENCODER_NAMES.values()):
            raise EngineError(f"unknown item encoder {self.item_encoder!r}; choose one of {', '.join(ENCODER_CHOICES)}")


class LSTMRecommender(Recommender):
    name = "lstm"

    def __init__(self, **params) -> None:
        fields = {f.name for f in dataclasses.fields(LSTMConfig)}
        self.config = LSTMConfig(**{k: v for k, v in params.items() if k in fields})
        self.device = "/CPU:0"            # TensorFlow device string used by fit (set by run_training)
        self.item_matrix: np.ndarray | None = None
        self.user_tower: NumpyUserTower | None = None
        self.scale, self.offset = 1.0 / self.config.temperature, 0.0
        self.rating_range: tuple[float | None, float | None] = (None, None)
        self.vocabulary: list[str] = []
        self.epochs: list[dict] = []
        self.best_epoch = 0
        self.keras_model = None
        self.trials: list[dict] = []          # tuning trials (TrialStats as dicts), when tuned
        self.validation_fit = None            # towers trained on the validation split's TRAIN (not saved)
        self.tower_trainer = None         # None: train_towers here; engine.runs.distributed sets a Ray one
        self.example_cache = None         # folder for the exported training examples (None: in memory)
        self.id_index: np.ndarray | None = None   # item -> id-embedding row of the trained towers
        self.warm_start = None            # a warm.WarmStart: fine-tune its towers instead of fresh ones
        self.catalogue_store = None       # a Store: MiniLM item vectors through its catalogue cache

    @property
    def n_items(self) -> int:
        return 0 if self.item_matrix is None else len(self.item_matrix)

    def params(self) -> dict:
        return dataclasses.asdict(self.config)

    # ---- training (TensorFlow) ---------------------------------------------------------------
    def fit(self, train: Dataset, *, progress=None, cancel: CancelToken | None = None) -> None:
        """Early-stop on a validation split carved from `train`, then (by default) refit on all of it."""
        tf = quiet_import()


        train_fn = self.tower_trainer or train_towers
        cfg, progress = self.config, progress or no_progress
        self.rating_range = (train.info.rating_min, train.info.rating_max)
        if cfg.text_encoder == "minilm":     # row 0 is the padding item, as in tokenize_catalogue
            # the same size rule as search (a warm start keeps its parent's encoder: its projection reads those)
            self.config = cfg = dataclasses.replace(cfg, item_encoder=choose_encoder(train.n_items, cfg.item_encoder))
            tokens, self.vocabulary = self._encoder_vectors(train, cfg.item_encoder, progress, cancel), []
        elif self.warm_start is not None:      # the parent's vocabulary: its token embeddings stay valid
            self.vocabulary = list(self.warm_start.vocabulary)
            tokens = np.vstack([np.zeros((1, self.warm_start.text_len), np.int32),
                                tokenize_with_vocabulary(_texts(train), self.vocabulary, self.warm_start.text_len)])
        else:
            tokens, self.vocabulary = tokenize_catalogue(_texts(train), cfg.max_tokens, cfg.text_len)
        with tf.device(self.device):
            warm = self.warm_start
            val = validation_split(train) if (cfg.patience > 0 or cfg.tune) and warm is None else None
            if val is not None and len(val.test_users):
                val_arrays = training_arrays(val.train, self.example_cache).with_id_rows(cfg.id_min_examples)
                if cfg.tune:
                    tuned = tune_lstm(cfg, val, tokens, trials=cfg.max_trials, budget_s=cfg.budget_s or None,
                                      progress=progress, cancel=cancel, device=self.device, arrays=val_arrays)
                    self.config = cfg = tuned.config
                    self.trials = [dataclasses.asdict(t) for t in tuned.trials]
                    fitted, log = tuned.fitted, list(tuned.fitted.epochs)
                else:
                    vset = ValidationSet(val.train, val.test_users, val.test_items, cfg.max_len)
                    total = cfg.epochs + (0 if not cfg.refit else 1 if cfg.warm_refit else cfg.epochs)
                    fitted = train_fn(cfg, val.train, tokens, epochs=cfg.epochs, validation=vset,
                                          progress=progress, cancel=cancel, device=self.device, total_epochs=total,
                                          arrays=val_arrays)
                    log = fitted.epochs
                self.validation_fit = fitted
                if cfg.refit:
                    fitted = val = val_arrays = vset = tuned = None     # held by validation_fit alone
                    fitted, log = self._refit(cfg, train, tokens, log, progress, cancel, train_fn)
            else:
                arrays = training_arrays(train, self.example_cache).with_id_rows(cfg.id_min_examples)
                fitted = train_fn(cfg, train, tokens, epochs=cfg.epochs, validation=None, progress=progress,
                                      cancel=cancel, device=self.device,
                                      **(dict(arrays=arrays) if warm is None else
                                         dict(arrays=warm.arrays(arrays), warm=warm.towers)))
                log = fitted.epochs
        self.item_matrix, self.user_tower = fitted.item_matrix, fitted.user_tower
        self.scale, self.offset = fitted.scale, fitted.offset
        self.keras_model, self.epochs, self.best_epoch = fitted.keras_model, log, fitted.best_epoch
        self.id_index = fitted.id_index

    def _refit(self, cfg, train: Dataset, tokens, log: list[dict], progress, cancel, train_fn):
        """Train on all of TRAIN after the choice made on validation: one epoch continuing the chosen
        validation towers (`validation_fit`; items with a TRAIN positive but no id row yet get new rows, as
        in a warm start), or fresh towers for the chosen best epoch count when `warm_refit` is off or the
        trainer cannot start from given towers (`starts_warm` False: the Ray trainer)."""
        warm = cfg.warm_refit and getattr(train_fn, "starts_warm", True)
        chosen = self.validation_fit
        # validation_model() needs the matrix and the user tower, not the Keras towers (their id table)
        self.validation_fit = dataclasses.replace(chosen, keras_model=None)
        epochs = 1 if warm else max(1, chosen.best_epoch)
        arrays = training_arrays(train, self.example_cache).with_id_rows(cfg.id_min_examples)
        start = {"arrays": arrays}
        if warm:        # the same start as a warm start from a saved run
            parent = WarmStart(chosen.keras_model, chosen.id_index, [])
            start = {"arrays": parent.arrays(arrays), "warm": parent.towers}
        chosen = parent = None  # the validation towers: only `start` holds them, when warm (copied as the refit starts)
        gc.collect()
        fitted = train_fn(cfg, train, tokens, epochs=epochs, validation=None, progress=progress, cancel=cancel,
                          device=self.device, epoch_offset=len(log), total_epochs=len(log) + epochs, **start)
        log = log + fitted.epochs
        fitted.best_epoch = len(log)
        return fitted, log

    def _encoder_vectors(self, train: Dataset, name: str, progress, cancel) -> np.ndarray:
        """(n_items + 1, 384): a zero padding row, then the pretrained encoder's vectors of the catalogue
        (``name``: a cache name, all-MiniLM-L6-v2 or minilm-static). With a store, through its catalogue
        cache, the one search, the semantic space and the explorer read: only new or changed texts are
        encoded, and the next run, a warm start included, and the explorer reuse them."""
        label = f"encoding item texts ({name})"
        report = (lambda u: progress(StepProgress(label, u.done, u.total)))
        # a large catalogue's frozen inputs in half precision: 1.5 GB at 1M items in float32; the tower casts
        # them back to float32
        dtype = np.float16 if train.n_items > STATIC_THRESHOLD else np.float32
        if self.catalogue_store is not None:
            return encoded_vectors(self.catalogue_store, train, encoder=name, lead=1, dtype=dtype, cancel=cancel,
                                   progress=report)
        vectors = encoder_by_name(name, "keras").encode(_texts(train), 64, cancel=cancel, progress=report)
        return np.vstack([np.zeros((1, vectors.shape[1]), np.float32), vectors]).astype(dtype, copy=False)

    def validation_model(self) -> "LSTMRecommender":
        """The towers trained on the validation split's TRAIN (early stopping / the chosen tuning trial), as
        a scorer: what a blend weight or any other choice made on validation must use (never TEST)."""
        if self.validation_fit is None:
            raise EngineError("this LSTM was trained without a validation split")
        m = LSTMRecommender(**self.params())
        f = self.validation_fit
        m.item_matrix, m.user_tower, m.scale, m.offset = f.item_matrix, f.user_tower, f.scale, f.offset
        m.rating_range = self.rating_range
        return m

    # ---- scoring (numpy) ---------------------------------------------------------------------
    def user_vectors(self, histories: list[np.ndarray], ratings: list[np.ndarray] | None = None) -> np.ndarray:
        """(B, d) L2-normalised user vectors from time-ordered histories (last L used)."""
        L = self.config.max_len
        hist = np.zeros((len(histories), L), np.int32)
        hist_r = np.zeros((len(histories), L), np.float32)
        for j, h in enumerate(histories):
            r = None if ratings is None else ratings[j]
            h = np.asarray(h)
            if len(h) and h.max() >= self.n_items:      # items added after training: unknown until folded in
                keep = h < self.n_items
                h, r = h[keep], (None if r is None else np.asarray(r)[keep])
            hist[j], hist_r[j] = window(h, r, L, *self.rating_range)
        seq, mask = user_inputs(self.item_matrix, hist, hist_r)
        return self.user_tower.encode(seq, mask)

    def score(self, history_items: np.ndarray, history_ratings: np.ndarray | None = None) -> np.ndarray:
        return self.score_many([history_items], None if history_ratings is None else [history_ratings])[0]

    def score_many(self, histories: list[np.ndarray], ratings: list[np.ndarray] | None = None) -> np.ndarray:
        if not len(histories):
            return np.zeros((0, self.n_items), np.float32)
        u = self.user_vectors(histories, ratings)
        scores = np.asarray(u @ self.item_matrix.T, np.float32)
        scores *= self.scale          # in place: at 1M items each (B, n_items) temporary is a scoring batch
        scores += self.offset
        return scores

    def quantize(self) -> None:
        """Keep the item vectors as int8 with a per-vector scale (engine.retrieval.quantize): 4x less memory."""
        if not isinstance(self.item_matrix, QuantizedVectors):
            self.item_matrix = QuantizedVectors.from_float(self.item_matrix)

    def item_vectors(self) -> np.ndarray | None:
        return self.item_matrix

    def query_vectors(self, histories: list[np.ndarray], ratings: list[np.ndarray] | None = None) -> np.ndarray:
        return self.user_vectors(histories, ratings)

    def scores_from_similarity(self, sims: np.ndarray) -> np.ndarray:
        return (self.scale * np.asarray(sims, np.float32) + self.offset).astype(np.float32)

    # ---- files ---------------------------------------------------------------------------------
    def save(self, directory: pathlib.Path) -> None:
        """model.npz (item matrix + user-tower weights), model.json, vocabulary.json, model.keras."""
        directory = pathlib.Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        if isinstance(self.item_matrix, QuantizedVectors):
            items = dict(item_codes=self.item_matrix.codes, item_scales=self.item_matrix.scales)
        else:      # read whole before the file is opened: on-demand rows may come from this very folder
            items = dict(item_matrix=np.asarray(self.item_matrix, np.float32))
        if self.id_index is not None:
            items["id_index"] = np.asarray(self.id_index, np.int32)
        np.savez(directory / "model.npz", **items, **self.user_tower.to_arrays())
        meta = dict(model=self.name, n_items=self.n_items, params=self.params(), scale=self.scale,
                    offset=self.offset, rating_range=list(self.rating_range), best_epoch=self.best_epoch,
                    epochs=self.epochs, trials=self.trials)
        (directory / "model.json").write_text(json.dumps(meta))
        (directory / "vocabulary.json").write_text(json.dumps(self.vocabulary))
        if self.keras_model is not None:
            self.keras_model.save(directory / "model.keras")

    loads_rows_on_demand = True     # load(..., rows_on_demand=True) is understood (engine.runs.loaded.run_from_parts)

    @classmethod
    def load(cls, directory: pathlib.Path, *, rows_on_demand: bool = False) -> "LSTMRecommender":
        """Numpy only: never imports TensorFlow (load model.keras yourself to train further).
        `rows_on_demand`: the float32 item vectors stay in model.npz and rows are read when asked for
        (engine.retrieval.vector_rows.NpyRows): for a large catalogue served by an ANN index, where a pick reads a
        few hundred rows. Full scoring then streams the file block by block. Int8 runs and arrays that
        cannot be read in place (a compressed file) are loaded whole as before."""
        directory = pathlib.Path(directory)
        meta = json.loads((directory / "model.json").read_text())
        model = cls(**meta["params"])
        model.scale, model.offset = float(meta["scale"]), float(meta["offset"])
        model.rating_range = tuple(meta["rating_range"])
        model.best_epoch, model.epochs = int(meta.get("best_epoch", 0)), list(meta.get("epochs", []))
        model.trials = list(meta.get("trials", []))
        with np.load(directory / "model.npz", allow_pickle=False) as z:
            if "item_codes" in z.files:
                model.item_matrix = QuantizedVectors(z["item_codes"], z["item_scales"])
            else:
                rows = NpyRows.open(directory / "model.npz", "item_matrix") if rows_on_demand else None
                model.item_matrix = rows if rows is not None else np.asarray(z["item_matrix"], np.float32)
            model.user_tower = NumpyUserTower.from_arrays(z)
            model.id_index = np.asarray(z["id_index"], np.int32) if "id_index" in z.files else None
        vocab = directory / "vocabulary.json"
        model.vocabulary = json.loads(vocab.read_text()) if vocab.exists() else []
        return model
