"""Choosing the LSTM's settings on the dataset's own validation split within a work budget, with Optuna
(TPE sampler, seeded; successive halving over epochs on each trial's validation NDCG@10). Imports
TensorFlow.

The budget is work, not time: a number of settings tried (`trials`) and, per setting, epochs decided
by successive halving (Optuna's `SuccessiveHalvingPruner`, the asynchronous form, rungs at epochs 1,
3 and 9: a setting goes on past a rung only while it is in the best third of the settings that
reached that epoch, or the best of them while fewer than three did), then early stopping. Every
decision is taken on validation figures, so the same seed gives the same trials and the same chosen
settings on a busy machine as on a quiet one (training itself is seeded; see `tune_lstm`). A
seconds budget (`budget_s`) is only an optional upper bound: when it is given and passed, no trial
starts and a running one is stopped, and the choice then depends on the machine's speed.

Trial 1 is always the given settings and is never pruned, so the chosen ones are never worse on
validation than the fixed defaults. Random start-up points in a 6-knob space are mostly worse than
settings that already work, so the next trials move one knob at a time away from the base
(`one_knob_points`), then one trial combines every move that beat the base at the same epoch;
TPE samples after that. Every trial trains on the validation split's TRAIN (one export of its
examples and one ValidationSet per history length serve all trials), and the winner's towers (at
its best epoch) are what the final refit on all of TRAIN continues. TEST is never seen."""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

from engine.errors import EngineError
from engine.models.lstm.examples import training_arrays
from engine.models.lstm.trainer import Fitted, ValidationSet, train_towers
from engine.types import EpochStats, TrialStats

DEFAULT_TRIALS = 8      # the base, six one-knob moves and their combination (or one TPE point)
RUNG_FACTOR = 3         # successive halving: the best third goes on at epochs 1, 3, 9


@dataclass
class TuneResult:
    config: object                 # the chosen LSTMConfig
    best_epoch: int
    fitted: Fitted                 # the chosen trial's towers, trained on the validation split's TRAIN
    trials: list[TrialStats] = field(default_factory=list)
    epochs_trained: int = 0        # the work done: training epochs over all trials


def _choices(default, values):
    return sorted(set(values) | {default})


def search_space(trial, base, n_items: int) -> dict:
    """The knobs that matter (each range also holds the base setting, enqueued as trial 1). An exact
    softmax over the whole catalogue was tried and dropped: on X-Wines' validation it reached 0.079
    NDCG@10 after 2 epochs (dropout 0.3) against 0.141 for the in-batch softmax."""
    p = dict(
        embedding_dim=trial.suggest_categorical("embedding_dim", _choices(base.embedding_dim, (64, 128, 256))),
        temperature=trial.suggest_float("temperature", min(0.03, base.temperature), max(0.3, base.temperature),
                                        log=True),
        learning_rate=trial.suggest_float("learning_rate", min(3e-4, base.learning_rate),
                                          max(3e-3, base.learning_rate), log=True),
        max_len=trial.suggest_categorical("max_len", _choices(base.max_len, (10, 20))),   # 50: 2.5x an epoch's
        # CPU for no gain on MovieTweetings or X-Wines (a TPE trial at 50 was 16 % of X-Wines' default command)
        dropout=trial.suggest_float("dropout", 0.0, max(0.5, base.dropout)),
        id_init=trial.suggest_float("id_init", min(0.01, base.id_init), max(0.3, base.id_init), log=True),
    )
    return p


def base_point(base, n_items: int) -> dict:
    """The base settings as a point of the search space (trial 1)."""
    return dict(embedding_dim=base.embedding_dim, temperature=base.temperature, learning_rate=base.learning_rate,
                max_len=base.max_len, dropout=base.dropout, id_init=base.id_init)


def one_knob_points(base) -> list[dict]:
    """Trials 2..7: the base with one knob moved (dropout, wider vectors, a sharper softmax, a longer or
    shorter history, a faster learning rate, a larger id-embedding scale), each inside the search space.
    Ordered by what a tight budget reaches first: overfitting after a few epochs is the common failure on
    small catalogues (X-Wines' validation NDCG@10 fell from epoch 4 on). The history moves shorter: a
    longer one changed little on MovieTweetings (0.130 against 0.131) and X-Wines (most users have fewer
    than 20 events) at 2.5x the CPU of an epoch, while 10 costs half."""
    start = base_point(base, 0)
    moves = [("dropout", 0.2 if base.dropout < 0.2 else 0.0),
             ("embedding_dim", 256 if base.embedding_dim < 256 else 64),
             ("temperature", max(0.03, base.temperature / 2)),
             ("max_len", 10 if base.max_len > 10 else 20),
             ("learning_rate", min(3e-3, base.learning_rate * 2)),
             ("id_init", min(0.3, base.id_init * 3))]
    return [{**start, key: value} for key, value in moves if value != start[key]]


def combined_point(base, results: list[tuple[dict, float]], base_value: float) -> dict | None:
    """The base with every one-knob move that beat it on validation; None unless two or more did."""
    start = base_point(base, 0)
    wins = {k: v for params, value in results if value > base_value
            for k, v in params.items() if v != start[k]}
    return {**start, **wins} if len(wins) >= 2 else None


def same_epoch_results(base_curve: dict[int, float], trials: list[tuple[dict, dict[int, float]]]
                       ) -> list[tuple[dict, float, float]]:
    """(params, the trial's value, the base's value) at the last epoch each trial reached: a move
    stopped early by successive halving is judged against the base at the same epoch, not against the
    base's fully trained figure."""
    out = []
    for params, curve in trials:
        common = [e for e in curve if e in base_curve]
        if common:
            e = max(common)
            out.append((params, curve[e], base_curve[e]))
    return out


def tune_lstm(base, val, tokens, *, trials: int = DEFAULT_TRIALS, budget_s: float | None = None, progress=None,
              cancel=None, device: str = "/CPU:0", arrays=None) -> TuneResult:
    """Search settings on `val` (a Split carved from TRAIN): `trials` settings, successive halving over
    epochs, optionally stopped at `budget_s` seconds. Reports every EpochStats of every trial and one
    TrialStats per finished trial through `progress`. With no `budget_s`, the outcome is a function of
    the data, the base settings and the seed only (tests/engine/test_lstm_tuning.py checks two runs)."""
    import keras
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    report = progress or (lambda _u: None)
    n_trials = max(1, int(trials or DEFAULT_TRIALS))
    n_items = val.train.n_items
    if arrays is None:                  # one export of the examples serves every trial
        arrays = training_arrays(val.train)
    vsets: dict[int, ValidationSet] = {}
    start = time.perf_counter()
    deadline = start + budget_s if budget_s else float("inf")
    best: dict = {"value": -1.0}
    stats: list[TrialStats] = []
    curves: dict[int, dict[int, float]] = {}       # trial number -> {epoch: validation NDCG@10}
    work = {"epochs": 0}

    def objective(trial) -> float:
        params = search_space(trial, base, n_items)
        cfg = dataclasses.replace(base, **params)
        if cfg.max_len not in vsets:
            vsets[cfg.max_len] = ValidationSet(val.train, val.test_users, val.test_items, cfg.max_len)
        keras.backend.clear_session()
        curves[trial.number] = {}

        def on_update(update) -> None:
            report(update)
            if isinstance(update, EpochStats) and update.batch is None and update.val_ndcg10 is not None:
                work["epochs"] += 1
                curves[trial.number][update.epoch] = update.val_ndcg10
                trial.report(update.val_ndcg10, update.epoch)
                behind = trial.should_prune()      # also files trial 1's figure at each rung for the others
                if trial.number > 0 and (behind or time.perf_counter() > deadline):
                    raise optuna.TrialPruned()

        fitted = train_towers(cfg, val.train, tokens, epochs=cfg.epochs, validation=vsets[cfg.max_len],
                              progress=on_update, cancel=cancel, device=device, arrays=arrays)
        value = max(e["val_ndcg10"] for e in fitted.epochs)
        if value > best["value"]:
            best.update(value=value, config=cfg, fitted=fitted, epoch=fitted.best_epoch)
        return value

    planned = one_knob_points(base)

    def after_trial(study, frozen) -> None:
        curve = curves.get(frozen.number, {})
        if frozen.number == len(planned) and 0 in curves:   # the last one-knob trial: combine the moves that won
            judged = same_epoch_results(curves[0], [(study.trials[n].params, curves[n])
                                                    for n in range(1, len(planned) + 1) if n in curves])
            point = combined_point(base, [(p, v - b) for p, v, b in judged], 0.0)
            if point is not None:
                study.enqueue_trial(point)
        done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        chosen = max(done, key=lambda t: t.value) if done else None
        state = "complete" if frozen.state == optuna.trial.TrialState.COMPLETE else "pruned"
        top = max(curve, key=lambda e: (curve[e], -e)) if curve else 0
        row = TrialStats(trial=frozen.number + 1, params=dict(frozen.params),
                         val_ndcg10=curve[top] if curve else None, best_epoch=int(top),
                         seconds=(frozen.duration.total_seconds() if frozen.duration else 0.0), state=state,
                         best_trial=(chosen.number + 1) if chosen else 0,
                         best_val_ndcg10=float(chosen.value) if chosen else None,
                         elapsed_s=time.perf_counter() - start, budget_s=float(budget_s or 0.0))
        stats.append(row)
        report(row)

    def out_of_time(study, _frozen) -> None:
        if time.perf_counter() > deadline:
            study.stop()

    sampler = optuna.samplers.TPESampler(seed=base.seed, n_startup_trials=4)
    pruner = optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=RUNG_FACTOR)
    study = optuna.create_study(direction="maximize", sampler=sampler, pruner=pruner, study_name="lstm-tuning")
    for point in [base_point(base, n_items), *planned][:n_trials]:
        study.enqueue_trial(point)
    study.optimize(objective, n_trials=n_trials, callbacks=[after_trial, out_of_time], catch=())
    if "config" not in best:
        raise EngineError("LSTM tuning finished no trial within its budget")
    return TuneResult(config=best["config"], best_epoch=int(best["epoch"]), fitted=best["fitted"], trials=stats,
                      epochs_trained=work["epochs"])


__all__ = ["DEFAULT_TRIALS", "TuneResult", "base_point", "combined_point", "one_knob_points", "same_epoch_results",
           "search_space", "tune_lstm"]
