"""Choosing the LSTM's settings on the dataset's own validation split within a time budget, with Optuna
(TPE sampler, seeded; median pruning on each trial's per-epoch validation NDCG@10). Imports TensorFlow.

Trial 1 is always the given settings, so the chosen ones are never worse on validation than the fixed
defaults. A CPU budget holds a handful of trials, and random start-up points in a 6-knob space are mostly
worse than settings that already work, so the next trials move one knob at a time away from the base
(`one_knob_points`), then one trial combines every move that beat the base; TPE samples after that. Every trial trains on the validation split's TRAIN with early stopping (epochs are not searched:
the best epoch is kept), and the winner's epoch count is what the final refit on all of TRAIN uses. No
new trial starts after the budget; a running trial other than the first is stopped at the budget
("pruned") and keeps the figure it reached. TEST is never seen."""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

from engine.errors import EngineError
from engine.models.lstm.examples import training_arrays
from engine.models.lstm.trainer import Fitted, ValidationSet, train_towers
from engine.types import EpochStats, TrialStats


@dataclass
class TuneResult:
    config: object                 # the chosen LSTMConfig
    best_epoch: int
    fitted: Fitted                 # the chosen trial's towers, trained on the validation split's TRAIN
    trials: list[TrialStats] = field(default_factory=list)


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
        max_len=trial.suggest_categorical("max_len", _choices(base.max_len, (10, 20, 50))),
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
    small catalogues (X-Wines' validation NDCG@10 fell from epoch 4 on), a longer history changed little
    on MovieTweetings (0.130 against 0.131) and X-Wines (most users have fewer than 20 events)."""
    start = base_point(base, 0)
    moves = [("dropout", 0.2 if base.dropout < 0.2 else 0.0),
             ("embedding_dim", 256 if base.embedding_dim < 256 else 64),
             ("temperature", max(0.03, base.temperature / 2)),
             ("max_len", 50 if base.max_len < 50 else 10),
             ("learning_rate", min(3e-3, base.learning_rate * 2)),
             ("id_init", min(0.3, base.id_init * 3))]
    return [{**start, key: value} for key, value in moves if value != start[key]]


def combined_point(base, results: list[tuple[dict, float]], base_value: float) -> dict | None:
    """The base with every one-knob move that beat it on validation; None unless two or more did."""
    start = base_point(base, 0)
    wins = {k: v for params, value in results if value > base_value
            for k, v in params.items() if v != start[k]}
    return {**start, **wins} if len(wins) >= 2 else None


def tune_lstm(base, val, tokens, *, budget_s: float, max_trials: int = 0, progress=None, cancel=None,
              device: str = "/CPU:0", arrays=None) -> TuneResult:
    """Search settings on `val` (a Split carved from TRAIN). Reports every EpochStats of every trial and
    one TrialStats per finished trial through `progress`."""
    import keras
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    report = progress or (lambda _u: None)
    n_items = val.train.n_items
    if arrays is None:                  # one export of the examples serves every trial
        arrays = training_arrays(val.train)
    vsets: dict[int, ValidationSet] = {}
    start = time.perf_counter()
    deadline = start + budget_s
    best: dict = {"value": -1.0}
    trials: list[TrialStats] = []
    reached: dict[int, tuple[float, int]] = {}

    def objective(trial) -> float:
        params = search_space(trial, base, n_items)
        cfg = dataclasses.replace(base, **params)
        if cfg.max_len not in vsets:
            vsets[cfg.max_len] = ValidationSet(val.train, val.test_users, val.test_items, cfg.max_len)
        keras.backend.clear_session()
        reached[trial.number] = (float("nan"), 0)

        def on_update(update) -> None:
            report(update)
            if isinstance(update, EpochStats) and update.batch is None and update.val_ndcg10 is not None:
                prev = reached[trial.number]
                if not prev[0] >= update.val_ndcg10:
                    reached[trial.number] = (update.val_ndcg10, update.epoch)
                trial.report(update.val_ndcg10, update.epoch)
                if trial.number > 0 and (trial.should_prune() or time.perf_counter() > deadline):
                    raise optuna.TrialPruned()

        fitted = train_towers(cfg, val.train, tokens, epochs=cfg.epochs, validation=vsets[cfg.max_len],
                              progress=on_update, cancel=cancel, device=device, arrays=arrays)
        value = max(e["val_ndcg10"] for e in fitted.epochs)
        if value > best["value"]:
            best.update(value=value, config=cfg, fitted=fitted, epoch=fitted.best_epoch)
        return value

    planned = one_knob_points(base)

    def after_trial(study, frozen) -> None:
        value, epoch = reached.get(frozen.number, (float("nan"), 0))
        if frozen.number == len(planned):      # the last one-knob trial: combine the moves that won
            complete = {t.number: t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE}
            if 0 in complete:
                point = combined_point(base, [(complete[n].params, complete[n].value)
                                              for n in range(1, len(planned) + 1) if n in complete],
                                       complete[0].value)
                if point is not None:
                    study.enqueue_trial(point)
        done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        chosen = max(done, key=lambda t: t.value) if done else None
        state = "complete" if frozen.state == optuna.trial.TrialState.COMPLETE else "pruned"
        stats = TrialStats(trial=frozen.number + 1, params=dict(frozen.params),
                           val_ndcg10=None if value != value else float(value), best_epoch=int(epoch),
                           seconds=(frozen.duration.total_seconds() if frozen.duration else 0.0), state=state,
                           best_trial=(chosen.number + 1) if chosen else 0,
                           best_val_ndcg10=float(chosen.value) if chosen else None,
                           elapsed_s=time.perf_counter() - start, budget_s=float(budget_s))
        trials.append(stats)
        report(stats)

    sampler = optuna.samplers.TPESampler(seed=base.seed, n_startup_trials=4)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=2)
    study = optuna.create_study(direction="maximize", sampler=sampler, pruner=pruner)
    for point in [base_point(base, n_items), *planned]:
        study.enqueue_trial(point)
    study.optimize(objective, n_trials=max_trials or None, timeout=max(budget_s, 1e-3), callbacks=[after_trial],
                   catch=())
    if "config" not in best:
        raise EngineError("LSTM tuning finished no trial within its budget")
    return TuneResult(config=best["config"], best_epoch=int(best["epoch"]), fitted=best["fitted"], trials=trials)


__all__ = ["TuneResult", "base_point", "combined_point", "one_knob_points", "search_space", "tune_lstm"]
