"""Model quality on every dataset, in one table: MostPopular, ItemKNN, EASE and ALS (each chosen on the
validation split from a small grid), the LSTM two-tower exactly as `llmrec train --model lstm` trains it
(its settings chosen on validation with Optuna within the default budget), and "LSTM + EASE" (blend
weight chosen on validation), on MovieTweetings-100k, X-Wines Slim and the demo data. Test figures under
docs/evaluation.md (time-aware holdout, full ranking); nothing is chosen on TEST.

    .venv/bin/python benchmarks/quality.py [--datasets movietweetings,xwines,demo] [--seeds 42,43,44]
        [--budget SECONDS] [--db .bench/quality.db] [--out quality.md]

Prints, per dataset: the table (NDCG@10 ± SE, Recall@10, ILD@10 in genre/category space, Coverage@10,
training seconds = validation search + final fit), the LSTM's tuning trials, the paired per-user NDCG@10
difference of the LSTM to the best baseline, and the bar (the best peer of ../shared/data/PEERS.md; on
the demo data our own EASE). With several seeds (default 3: the LSTM, its tuning and the blend are
trained once per seed; the baselines are deterministic or seeded once, fitted once), it adds a
table of mean ± sd over the seeds per model, and the paired difference LSTM − best baseline: per seed
(mean ± SE over users) and over the seeds (each user's NDCG@10 averaged over the seeds, then the paired
mean ± SE over users), with the target of issue 24: the LSTM's mean >= 1.05x the bar and its
difference to the best baseline above 2 SE."""
from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))   # this checkout's engine, not an installed one
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from quality_data import NAMES, open_benchmark_store  # noqa: E402

from engine.data.dataset import load_dataset  # noqa: E402
from engine.data.split import time_split, validation_split  # noqa: E402
from engine.evaluation.protocol import list_metrics, rank_users  # noqa: E402
from engine.models.registry import get_model_class  # noqa: E402
from engine.models.selection import ndcg_rows, tune_baseline  # noqa: E402
from engine.runs.training import TrainConfig  # noqa: E402
from engine.types import EpochStats, TrialStats  # noqa: E402

PEER_BAR = {"movietweetings": ("EASE (PEERS.md)", 0.0962), "xwines": ("SASRec (PEERS.md)", 0.1645)}
LABEL = {"popularity": "MostPopular", "itemknn": "ItemKNN", "ease": "EASE", "als": "ALS", "lstm": "LSTM two-tower",
         "lstm_ease": "LSTM + EASE"}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def evaluate_lists(model, split) -> tuple[dict, np.ndarray]:
    lists = rank_users(model, split, 20)
    return list_metrics(lists, split, (10, 20), model_vectors=model.item_vectors()), ndcg_rows(lists, split, 10)


def short(params: dict) -> str:
    return ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in params.items())


def run_dataset(store, key: str, budget: float | None, lstm_overrides: dict, fixed: dict,
                models: tuple[str, ...] = ("popularity", "itemknn", "ease", "als", "lstm", "lstm_ease"),
                seeds: tuple[int, ...] = (42,)) -> list[dict]:
    """One result per seed (the baselines' rows are the same objects in each)."""
    base = run_baselines(store, key, fixed, models)
    if "lstm" not in models:
        return [base]
    out = []
    for seed in seeds:
        res = run_lstm(store, key, base, budget, {**lstm_overrides, "seed": seed}, "lstm_ease" in models)
        out.append({**res, "seed": seed})
    return out


def run_baselines(store, key: str, fixed: dict, models: tuple[str, ...]) -> dict:
    ds = load_dataset(store, NAMES[key])
    split = time_split(ds)
    val = validation_split(split.train)
    log(f"== {NAMES[key]}: {split.stats}")
    rows, per_user = [], {}
    for name in [m for m in ("popularity", "itemknn", "ease", "als") if m in models]:
        t0 = time.perf_counter()
        grid = tune_baseline(name, val, [fixed[name]] if name in fixed else None)
        model = get_model_class(name)(**grid.params)
        model.fit(split.train)
        secs = time.perf_counter() - t0
        m, nd = evaluate_lists(model, split)
        per_user[name] = nd
        rows.append(dict(model=name, settings=short(grid.params), val=grid.val_ndcg10, seconds=secs, metrics=m))
        log(f"  {name} {grid.params}: val {grid.val_ndcg10:.4f} test {m['ndcg@10']:.4f} ± {m['ndcg_se@10']:.4f} "
            f"recall {m['recall@10']:.4f} ild {m['ild_genre@10']} coverage {m['coverage@10']:.4f} ({secs:.0f} s)")
    return dict(key=key, name=NAMES[key], stats=split.stats, rows=rows, trials=[], per_user=per_user, budget=0,
                split=split)


def run_lstm(store, key: str, base: dict, budget: float | None, lstm_overrides: dict, blend: bool) -> dict:
    """The LSTM as `llmrec train` trains it (with `lstm_overrides`, the seed among them) and the blend."""
    split = base["split"]
    rows, per_user = list(base["rows"]), dict(base["per_user"])
    ease = [r for r in rows if r["model"] == "ease"]
    ease_l2 = float(ease[0]["settings"].split()[-1]) if ease else None
    overrides = dict(lstm_overrides)
    seed = overrides.pop("seed", 42)
    cfg = TrainConfig(dataset=NAMES[key], device="cpu", seed=seed, **({"budget_s": budget} if budget else {}),
                      extra=overrides)
    lstm = get_model_class("lstm")(**cfg.model_params())
    trials: list[TrialStats] = []

    def progress(u) -> None:
        if isinstance(u, TrialStats):
            trials.append(u)
            log(f"  trial {u.trial}: val {u.val_ndcg10} {u.state} epoch {u.best_epoch} {u.seconds:.0f} s {u.params}")
        elif isinstance(u, EpochStats) and u.batch is None:
            log(f"    epoch {u.epoch}: loss {u.loss:.4f} val {u.val_ndcg10} {u.seconds:.0f} s")

    t0 = time.perf_counter()
    lstm.fit(split.train, progress=progress)
    lstm_s = time.perf_counter() - t0
    m, nd = evaluate_lists(lstm, split)
    per_user["lstm"] = nd
    chosen = next(t for t in trials if t.trial == trials[-1].best_trial) if trials else None
    lstm_val = chosen.val_ndcg10 if chosen else max(e["val_ndcg10"] or 0 for e in lstm.epochs)
    tuned = {k: getattr(lstm.config, k) for k in (chosen.params if chosen else {})}
    rows.append(dict(model="lstm", settings=short(tuned) + f"; {lstm.best_epoch} epochs in all", val=lstm_val,
                     seconds=lstm_s, metrics=m))
    log(f"  lstm (seed {seed}): val {lstm_val:.4f} test {m['ndcg@10']:.4f} ± {m['ndcg_se@10']:.4f} recall {m['recall@10']:.4f} "
        f"ild {m['ild_genre@10']} coverage {m['coverage@10']:.4f} ({lstm_s:.0f} s) {tuned}")

    if not blend:
        return dict(key=key, name=NAMES[key], stats=split.stats, rows=rows, trials=trials, per_user=per_user,
                    budget=cfg.budget_s)
    hybrid = get_model_class("lstm_ease")()
    hybrid.lstm = lstm
    t0 = time.perf_counter()
    hybrid.fit_blend(split.train, ease_l2=ease_l2)
    blend_s = time.perf_counter() - t0
    m, nd = evaluate_lists(hybrid, split)
    per_user["lstm_ease"] = nd
    rows.append(dict(model="lstm_ease", settings=f"w {hybrid.weight:.1f}, EASE lambda {hybrid.ease_l2:g}",
                     val=max(v for _, v in hybrid.blend_table), seconds=lstm_s + blend_s, metrics=m))
    log(f"  lstm_ease: w {hybrid.weight} test {m['ndcg@10']:.4f}")
    return dict(key=key, name=NAMES[key], stats=split.stats, rows=rows, trials=trials, per_user=per_user,
                budget=cfg.budget_s)


def paired(a: np.ndarray, b: np.ndarray) -> str:
    d = a - b
    return f"{d.mean():+.4f} ± {1.96 * d.std(ddof=1) / np.sqrt(len(d)):.4f}"


def report(res: dict) -> str:
    st = res["stats"]
    out = [f"### {res['name']}", "",
           f"{st['evaluated_users']:,} users evaluated, {st['test_positives']:,} test positives, "
           f"full ranking over {st['items']:,} items."
           + (f" LSTM tuning budget {res['budget']:.0f} s." if res["budget"] else ""), "",
           "| model | NDCG@10 ± SE | Recall@10 | ILD@10 | Coverage@10 | train s | val NDCG@10 | chosen on validation |",
           "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in res["rows"]:
        m = r["metrics"]
        ild = "-" if m.get("ild_genre@10") is None else f"{m['ild_genre@10']:.3f}"
        out.append(f"| {LABEL[r['model']]} | {m['ndcg@10']:.4f} ± {m['ndcg_se@10']:.4f} | {m['recall@10']:.4f} | "
                   f"{ild} | {m['coverage@10']:.3f} | {r['seconds']:.0f} | {r['val']:.4f} | {r['settings']} |")
    pu = res["per_user"]
    if "lstm" not in pu:
        return "\n".join(out) + "\n"
    base = best_baseline(pu)
    lstm = next(r for r in res["rows"] if r["model"] == "lstm")["metrics"]["ndcg@10"]
    bar_name, bar = PEER_BAR.get(res["key"], ("EASE (this run)", float(pu["ease"].mean())))
    verdict = "meets" if lstm >= bar else "does NOT meet"
    blend = f"LSTM + EASE − {LABEL[base]}: {paired(pu['lstm_ease'], pu[base])}. " if "lstm_ease" in pu else ""
    out += ["", f"Seed {res.get('seed', 42)}. LSTM − {LABEL[base]} (best baseline here), paired per user (± 1.96·SE): "
            f"{paired(pu['lstm'], pu[base])}; {blend}"
            f"The bar, {bar_name} {bar:.4f}: the LSTM ({lstm:.4f}) {verdict} it.", ""]
    if res["trials"]:
        total = sum(t.seconds for t in res["trials"])
        out += [f"LSTM tuning trials ({len(res['trials'])} in {total:.0f} s, "
                f"{total / len(res['trials']):.0f} s per trial):", "",
                "| trial | val NDCG@10 | state | best epoch | s | settings |", "| --- | --- | --- | --- | --- | --- |"]
        best = res["trials"][-1].best_trial
        for t in res["trials"]:
            v = "-" if t.val_ndcg10 is None else f"{t.val_ndcg10:.4f}"
            mark = " (chosen)" if t.trial == best else ""
            out.append(f"| {t.trial}{mark} | {v} | {t.state} | {t.best_epoch} | {t.seconds:.0f} | {short(t.params)} |")
        out.append("")
    return "\n".join(out)


def best_baseline(per_user: dict) -> str:
    return max([n for n in ("popularity", "itemknn", "ease", "als") if n in per_user],
               key=lambda n: per_user[n].mean())


def seeds_report(results: list[dict]) -> str:
    """Mean ± sd over the seeds per model, and the paired LSTM − best-baseline difference per seed and
    over the seeds (per-user NDCG@10 averaged over the seeds first), against issue 24's target."""
    first = results[0]
    models = [r["model"] for r in first["rows"]]
    out = [f"#### {first['name']}: {len(results)} seeds ({', '.join(str(r['seed']) for r in results)})", "",
           "| model | NDCG@10 mean ± sd over seeds | per seed | Recall@10 mean |", "| --- | --- | --- | --- |"]
    for name in models:
        nd = np.array([next(r for r in res["rows"] if r["model"] == name)["metrics"]["ndcg@10"] for res in results])
        rc = np.mean([next(r for r in res["rows"] if r["model"] == name)["metrics"]["recall@10"] for res in results])
        sd = nd.std(ddof=1) if len(nd) > 1 else 0.0
        out.append(f"| {LABEL[name]} | {nd.mean():.4f} ± {sd:.4f} | {' / '.join(f'{v:.4f}' for v in nd)} | {rc:.4f} |")
    base = best_baseline(first["per_user"])
    out += ["", f"Paired per-user NDCG@10 difference to {LABEL[base]} (the best baseline here), mean ± SE over "
            "users:", "", "| model | " + " | ".join(f"seed {r['seed']}" for r in results) + " | over the seeds |",
            "| --- |" + " --- |" * (len(results) + 1)]
    bar_name, bar = PEER_BAR.get(first["key"], ("EASE (this run)", float(first["per_user"]["ease"].mean())))
    verdicts = []
    for name in [m for m in ("lstm", "lstm_ease") if m in first["per_user"]]:
        per_seed = [res["per_user"][name] - res["per_user"][base] for res in results]
        mean_user = np.mean([res["per_user"][name] for res in results], axis=0) - results[0]["per_user"][base]
        se = mean_user.std(ddof=1) / np.sqrt(len(mean_user))
        cells = [f"{d.mean():+.4f} ± {d.std(ddof=1) / np.sqrt(len(d)):.4f}" for d in per_seed]
        out.append(f"| {LABEL[name]} − {LABEL[base]} | " + " | ".join(cells) + f" | {mean_user.mean():+.4f} ± {se:.4f} |")
        mean = float(np.mean([res["per_user"][name].mean() for res in results]))
        ok = mean >= 1.05 * bar and mean_user.mean() > 2 * se
        verdicts.append(f"{LABEL[name]}: {mean:.4f} = {mean / bar:.3f}x the bar ({bar_name} {bar:.4f}); difference "
                        f"to {LABEL[base]} {mean_user.mean() / max(se, 1e-12):.1f} SE: target (>= 1.05x, > 2 SE) "
                        f"{'met' if ok else 'NOT met'}")
    return "\n".join(out + [""] + [f"- {v}" for v in verdicts]) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default="movietweetings,xwines,demo")
    ap.add_argument("--models", default="popularity,itemknn,ease,als,lstm,lstm_ease",
                    help="a subset (lstm_ease needs lstm)")
    ap.add_argument("--budget", type=float, help="LSTM tuning: an upper bound in seconds (default: none, the "
                    "command's work budget)")
    ap.add_argument("--seeds", default="42,43,44", help="LSTM seeds, comma-separated (default 3 seeds)")
    ap.add_argument("--db", type=Path, default=Path(__file__).resolve().parents[1] / ".bench" / "quality.db")
    ap.add_argument("--out", type=Path, help="also write the markdown here")
    ap.add_argument("--baselines", type=json.loads, default={}, metavar="JSON",
                    help="one setting per baseline instead of its validation grid, e.g. PEERS.md's validation "
                         "choices on MovieTweetings: '{\"ease\": {\"l2\": 250}}' (saves the grid's time)")
    ap.add_argument("--lstm", type=json.loads, default={}, metavar="JSON",
                    help='LSTM settings to override, for quick checks: \'{"epochs": 1, "max_trials": 1}\'')
    args = ap.parse_args()
    keys = [k for k in args.datasets.split(",") if k]
    store = open_benchmark_store(args.db, keys)
    seeds = tuple(int(x) for x in args.seeds.split(",") if x)
    parts = []
    for key in keys:
        results = run_dataset(store, key, args.budget, args.lstm, args.baselines, tuple(args.models.split(",")),
                              seeds)
        with (args.db.parent / f"quality-{key}.pkl").open("wb") as fh:   # the raw results, kept
            pickle.dump([{k: v for k, v in r.items() if k != "split"} for r in results], fh)
        parts += [report(r) for r in results]
        if len(results) > 1:
            parts.append(seeds_report(results))
        print("\n".join(parts), flush=True)
        if args.out:
            args.out.write_text("\n".join(parts))


if __name__ == "__main__":
    main()
