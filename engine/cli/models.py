"""`llmrec train`, `runs`, `evaluate`, `recommend`: models headless."""
from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

import numpy as np

from engine.cli.main import FRACTION, SEED, PendingFile, add_common, at_least, emit_json, name_text, number, record_id
from engine.errors import EngineError, InputError, NotFoundError, UsageError, shorten
from engine.evaluation.protocol import sample_note
from engine.explore.rerank import METHODS, POOL_WIDEN
from engine.store import repository as repo

HEADLINE = ("ndcg@10", "recall@10")
DISPLAY = {"popularity": "MostPopular", "itemknn": "ItemKNN", "ease": "EASE", "als": "ALS", "lstm_ease": "LSTM + EASE"}
TABLE_KEYS = ("ndcg@10", "ndcg_se@10", "recall@10", "hit_rate@10", "mrr@10", "ndcg@20", "recall@20", "hit_rate@20", "mrr@20",
              "ild_genre@10", "ild_model@10", "coverage@10", "novelty@10", "gini@10")


def register(sub) -> None:
    p = sub.add_parser("train", help="train a model (or fit a baseline) and register the run")
    p.add_argument("--dataset", type=name_text, help="the dataset to train on (a warm start uses its run's dataset)")
    p.add_argument("--model", default="lstm", choices=("lstm", "lstm_ease", "ease", "als", "itemknn", "popularity"),
                   help="lstm_ease: the LSTM blended with EASE, weight chosen on validation")
    p.add_argument("--objective", choices=("paper", "softmax"),
                   help="LSTM loss: softmax (in-batch softmax with logQ correction; default) or paper (the "
                        "article's cosine -> sigmoid with sampled negatives)")
    p.add_argument("--text-encoder", choices=("lstm", "minilm"),
                   help="LSTM item text: the pretrained encoder's frozen vectors under a trainable projection "
                        "(minilm, default: it won on validation) or a text LSTM trained from scratch (lstm)")
    p.add_argument("--epochs", type=at_least(1), help="most epochs per training (early stopping on validation "
                   "decides); with --warm-start: the epochs of fine-tuning (default 2)")
    p.add_argument("--warm-start", type=record_id("run"), metavar="RUN",
                   help="fine-tune the finished LSTM run RUN on its dataset's current data (e.g. after "
                        "`import --append`): new items get id rows, new users need nothing; a new run")
    p.add_argument("--tune-budget", "--budget", dest="budget", type=number(above=0), metavar="SECONDS",
                   help="LSTM: an upper bound in seconds on choosing its settings (default none: the work "
                        "budget, --trials and successive halving over epochs, decides, so the same seed "
                        "chooses the same settings at any machine load)")
    p.add_argument("--trials", type=at_least(1), metavar="N",
                   help="LSTM: settings tried on validation (default 8), each continued while in the best third "
                        "at epochs 1, 3 and 9")
    p.add_argument("--no-tune", dest="tune", action="store_false",
                   help="LSTM: keep the fixed default settings, no search on validation")
    p.add_argument("--fresh-refit", dest="warm_refit", action="store_false",
                   help="LSTM: after choosing on validation, retrain fresh towers on all of TRAIN for the best "
                        "epoch count (default: the chosen towers train one more epoch on all of TRAIN)")
    p.add_argument("--device", choices=("auto", "cpu", "gpu"),
                   help="where TensorFlow trains (default auto: the GPU when TensorFlow sees one)")
    p.add_argument("--seed", type=SEED, help="random seed, 0 to 2**32-1")
    p.add_argument("--no-holdout", dest="holdout", action="store_false",
                   help="train on all of the dataset (early stopping still uses the last part of TRAIN)")
    p.add_argument("--workers", type=at_least(1), help="train the LSTM data-parallel on N Ray workers (needs the "
                   "`distributed` extra)")
    p.add_argument("--ray-address", metavar="ADDR", help="join the Ray cluster at ADDR (e.g. ray://head:10001 or "
                   "head:6379); default: start a local one")
    add_common(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("devices", help="the CPU and GPUs TensorFlow sees (imports TensorFlow)")
    add_common(p)
    p.set_defaults(func=cmd_devices)

    p = sub.add_parser("runs", help="list trained runs with headline metrics; delete a run, remove its index, "
                                    "export its record",
                       description="llmrec runs: list the runs (default); `runs delete --run N` removes a run and "
                                   "its files (only files this database owns), `runs remove-index --run N` its ANN "
                                   "index, `runs export --run N --out FILE.json` writes its settings, metrics, "
                                   "epochs and index as JSON.")
    p.add_argument("action", nargs="?", default="list", choices=("list", "delete", "remove-index", "export"),
                   help="what to do (default: list)")
    p.add_argument("--run", type=record_id("run"), help="the run to delete, un-index or export")
    p.add_argument("--out", metavar="FILE", help="with export: the JSON file to write")
    add_common(p)
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser("evaluate", help="a run's metrics beside MostPopular, ItemKNN and EASE")
    p.add_argument("--run", type=record_id("run"), required=True, help="the run's id (llmrec runs lists them)")
    add_common(p)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("recommend", help="write top-K recommendations to CSV (user,item,rank,score)")
    p.add_argument("--run", type=record_id("run"), required=True, help="the run's id (llmrec runs lists them)")
    p.add_argument("--users", default="all", type=name_text, help="'all' or a file with one external user id per line")
    p.add_argument("--k", type=at_least(1), default=10, help="recommendations per user (default 10)")
    p.add_argument("--out", required=True, help="the CSV file to write")
    p.add_argument("--diversity", type=FRACTION, default=0.0, help="re-ranking trade-off in [0, 1] (0: off)")
    p.add_argument("--method", default="mmr", choices=METHODS,
                   help="re-ranker: mmr (maximal marginal relevance; default), dpp (determinantal point process) or "
                        "calibration (match the user's category mix)")
    p.add_argument("--space", default="auto", choices=("auto", "model", "categories", "semantic", "text"),
                   help="space the re-ranker measures diversity in: auto (default: the run's space chosen on its "
                        "validation users), model (the run's item vectors), categories (genres or attributes), "
                        "semantic (the encoded catalogue), text (TF-IDF)")
    add_common(p)
    p.set_defaults(func=cmd_recommend)


# ---- train ---------------------------------------------------------------------------------

class TextProgress:
    """A one-line progress bar on stderr for EpochStats and StepProgress updates."""

    open_line = False   # a bar is on screen without its newline: an error line must start below it

    def __init__(self, stream=None, width: int = 30) -> None:
        self.stream, self.width, self._last = stream or sys.stderr, width, 0.0

    def __call__(self, update) -> None:
        if hasattr(update, "trial"):
            self.stream.write("\r" + trial_line(update) + "\n")
            TextProgress.open_line = False
            self.stream.flush()
            return
        if hasattr(update, "epoch"):
            if update.batch is not None and update.batches:
                done, total = update.batch, update.batches
                label = update.phase_label
            else:
                done, total = update.epoch, update.epochs
                label = f"{update.phase_label} loss {update.loss:.4f}"
                if update.val_ndcg10 is not None:
                    label += f" val ndcg@10 {update.val_ndcg10:.4f}"
        elif hasattr(update, "stage"):
            done, total, label = update.done, update.total, update.stage
        else:
            return
        now = time.monotonic()
        final = total and done >= total
        if not final and now - self._last < 0.2:
            return
        self._last = now
        frac = min(1.0, done / total) if total else 0.0
        bar = "#" * int(frac * self.width)
        self.stream.write(f"\r[{bar:<{self.width}}] {frac:4.0%} {label[:60]:<60}")
        TextProgress.open_line = True
        if final and getattr(update, "batch", None) is None:
            self.stream.write("\n")
            TextProgress.open_line = False
        self.stream.flush()


def _fmt_param(v) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def trial_line(t) -> str:
    """One tuning trial as a line: its validation NDCG@10, time, settings, and the chosen trial so far."""
    val = "-" if t.val_ndcg10 is None else f"{t.val_ndcg10:.4f}"
    params = " ".join(f"{k}={_fmt_param(v)}" for k, v in t.params.items())
    best = "-" if t.best_val_ndcg10 is None else f"{t.best_val_ndcg10:.4f}"
    clock = f"{t.elapsed_s:.0f}/{t.budget_s:.0f} s" if t.budget_s else f"{t.elapsed_s:.0f} s"
    return (f"trial {t.trial}: val NDCG@10 {val} ({t.state}, best epoch {t.best_epoch}, {t.seconds:.0f} s) {params}"
            f" | chosen: trial {t.best_trial} ({best}); {clock}")


def _train(args, store, progress) -> dict:
    from engine.runs.training import WARM_START_EPOCHS, TrainConfig, run_training
    if args.dataset is None and getattr(args, "warm_start", None) is None:
        raise UsageError("train needs --dataset (or --warm-start RUN)")
    if getattr(args, "warm_start", None) is not None:
        args.epochs = args.epochs or WARM_START_EPOCHS
    kwargs = {k: v for k, v in dict(dataset=args.dataset or "", warm_start=getattr(args, "warm_start", None),
                                     model=args.model, objective=args.objective,
                                     epochs=args.epochs, device=args.device, seed=args.seed,
                                     holdout=args.holdout, tune=args.tune, budget_s=args.budget,
                                     max_trials=args.trials, workers=args.workers,
                                     ray_address=args.ray_address).items() if v is not None}
    extra = {"text_encoder": args.text_encoder} if getattr(args, "text_encoder", None) else {}
    if getattr(args, "warm_refit", True) is False:
        extra["warm_refit"] = False
    if extra:
        kwargs["extra"] = extra
    s = run_training(TrainConfig(**kwargs), store, progress=progress)
    return dict(run_id=s.run_id, model=s.model, device=s.device, device_name=s.device_name,
                seconds=s.seconds, metrics=s.metrics)


def cmd_train(args, store) -> int:
    result = _train(args, store, TextProgress())
    if args.json:
        emit_json(result)
    else:
        m = result["metrics"] or {}
        head = ", ".join(f"{k} {m[k]:.4f}" for k in HEADLINE if m.get(k) is not None)
        print(f"run {result['run_id']}: {result['model']} on {result['device_name'] or result['device']} "
              f"in {result['seconds']:.1f}s" + (f" ({head})" if head else ""))
        note = sample_note(m)
        if note:
            print(f"  {note}")
    return 0


# ---- runs ----------------------------------------------------------------------------------

def cmd_runs(args, store) -> int:
    if args.action != "list":
        return _run_action(args, store)
    with store.session() as s:
        runs = repo.list_runs(s)
    def status(r) -> str:
        return "done" if r.artifact_dir and (Path(store.artifact_root) / r.artifact_dir).exists() else "no files"
    rows = [dict(id=r.id, dataset=r.dataset_name, model=r.model, status=status(r),
                 holdout=r.holdout, device=r.device, seconds=r.seconds,
                 **{k: r.metrics.get(k) for k in HEADLINE}, created_at=r.created_at) for r in runs]
    if args.json:
        emit_json(rows)
        return 0
    print(f"{'id':>4}  {'dataset':<24} {'model':<11} {'status':<8} {'holdout':<7} {'ndcg@10':>8} {'recall@10':>9}")
    for r in rows:
        f = lambda v: "-" if v is None else f"{v:.4f}"  # noqa: E731
        print(f"{r['id']:>4}  {r['dataset'][:24]:<24} {r['model']:<11} {r['status']:<8} {str(r['holdout']):<7} "
              f"{f(r['ndcg@10']):>8} {f(r['recall@10']):>9}")
    return 0


def _run_action(args, store) -> int:
    from engine.runs import manage
    if args.run is None:
        raise UsageError(f"runs {args.action} needs --run N (see llmrec runs)")
    if args.action == "export":
        if not args.out:
            raise UsageError("runs export needs --out FILE.json")
        path = manage.export_run(store, args.run, args.out)
        if args.json:
            emit_json({"run": args.run, "path": str(path)})
        else:
            print(f"run {args.run}: written to {path}")
        return 0
    done = manage.delete_run(store, args.run) if args.action == "delete" else manage.remove_index(store, args.run)
    if args.json:
        emit_json(done.__dict__ | {"action": args.action})
        return 0
    what = "deleted" if args.action == "delete" else "index removed"
    if args.action == "remove-index" and not done.removed:
        print(f"run {args.run}: nothing removed: {done.left_alone}")
        return 0
    files = "its files removed" if done.removed else f"its files left alone: {done.left_alone}"
    print(f"run {args.run}: {what}" + ("" if args.action == "remove-index" else f"; {files}"))
    return 0


# ---- evaluate ------------------------------------------------------------------------------

def baseline_metrics(store, info, progress=None) -> dict[str, dict]:
    """Metrics of MostPopular, ItemKNN and EASE on the run's dataset and split: reuse a holdout
    baseline run fitted with the same positive threshold when there is one (the runs table is the
    cache), fit and register one otherwise."""
    from engine.models.registry import BASELINES
    from engine.runs.baselines import fit_baseline
    threshold = info.config.get("positive_threshold")
    out = {}
    with store.session() as s:
        runs = repo.list_runs(s, info.dataset_id)
    for name in BASELINES:
        if info.model == name and info.metrics:
            out[name] = info.metrics
            continue
        found = [r for r in runs if r.model == name and r.holdout and r.metrics.get("ndcg@10") is not None
                 and r.config.get("positive_threshold") == threshold]
        if not found:
            run_id = fit_baseline(store, info.dataset_id, name, holdout=True, progress=progress)
            with store.session() as s:
                found = [repo.get_run(s, run_id)]
        out[name] = found[-1].metrics
    return out


def _run_metrics(store, info, progress) -> dict:
    if info.metrics.get("ndcg@10") is not None:
        return info.metrics
    from engine.evaluation.protocol import evaluate
    from engine.runs.loaded import load_run
    loaded = load_run(store, info.id)
    metrics = evaluate(loaded.model, loaded.split, progress=progress)
    with store.write_session(progress=progress) as s:   # finished work waits for a busy database
        repo.set_run_metrics(s, info.id, metrics)
    return metrics


def cmd_evaluate(args, store) -> int:
    with store.session() as s:
        info = repo.get_run(s, args.run)
    if not info.holdout:
        raise EngineError(f"run {info.id} was trained without a holdout: it has no test set to evaluate on")
    progress = None if args.json else TextProgress()
    metrics = _run_metrics(store, info, progress)
    table = {f"run {info.id} ({info.model})": metrics, **baseline_metrics(store, info, progress)}
    if args.json:
        emit_json({"run_id": info.id, "dataset": info.dataset_name, "model": info.model,
                   "protocol": "time-aware holdout, full ranking (docs/evaluation.md)", "metrics": table})
        return 0
    split = metrics.get("split", {})
    print(f"dataset {info.dataset_name}: {metrics.get('n_users')} users evaluated, "
          f"{split.get('test_positives', '?')} test positives, full ranking over {split.get('items', '?')} items")
    names = list(table)
    width = max(len(n) for n in names) + 2
    print(f"{'metric':<14}" + "".join(f"{DISPLAY.get(n, n):>{width}}" for n in names))
    for key in TABLE_KEYS:
        cells = "".join(f"{'-' if table[n].get(key) is None else format(table[n][key], '.4f'):>{width}}" for n in names)
        print(f"{key:<14}" + cells)
    pop = table["popularity"].get("ndcg@10") or 0.0
    mine = metrics.get("ndcg@10") or 0.0
    verdict = "beats" if mine > pop else "does NOT beat"
    print(f"\nrun {info.id} {verdict} MostPopular on NDCG@10 ({mine:.4f} vs {pop:.4f})")
    print("NDCG@10 by user activity (TRAIN interactions):")
    for group, g in (metrics.get("by_activity") or {}).items():
        v = g.get("ndcg@10")
        print(f"  {group:<8} {g.get('n_users', 0):>6} users  {'-' if v is None else format(v, '.4f')}")
    return 0


# ---- recommend -----------------------------------------------------------------------------

def _read_users(spec: str, ds) -> np.ndarray:
    if spec == "all":
        return np.arange(ds.n_users)
    path = Path(spec)
    if not path.is_file():
        raise InputError("is a folder, not a file of user ids" if path.is_dir() else "no such file", path=str(path))
    index = {str(u): i for i, u in enumerate(ds.user_ids)}
    users = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        uid = line.strip()
        if not uid or uid.startswith("#"):
            continue
        if uid not in index:
            raise InputError(f"unknown user id {shorten(uid)}", path=str(path), line=n, column=1)
        users.append(index[uid])
    return np.asarray(users, dtype=np.int64)


def _genres(ds, items: np.ndarray) -> np.ndarray:
    from engine.explore.similarity import genre_matrix
    return np.asarray(genre_matrix(ds)[items])


def _target(loaded, user: int) -> np.ndarray:
    """The user's category mix (calibration's target), from the whole history."""
    from engine.explore.similarity import genre_matrix, genre_mix
    hist = np.unique(np.asarray(loaded.history(int(user), whole=True)[0], dtype=np.int64))
    return genre_mix(genre_matrix(loaded.dataset)[hist])


def cmd_recommend(args, store) -> int:
    from engine.runs.loaded import load_run
    out = PendingFile(args.out, "--out")       # checked before the work, written aside, then renamed
    try:
        loaded = load_run(store, args.run)
    except FileNotFoundError as exc:
        raise NotFoundError(f"run {args.run} has no model files ({exc.filename})") from exc
    ds = loaded.dataset
    users = _read_users(args.users, ds)
    n_cand = 100 * POOL_WIDEN if args.diversity > 0 else args.k     # the slider's pool (engine.explore.rerank)
    items, scores = loaded.recommend_many(users, max(args.k, n_cand), whole=True)
    rerank, space = None, None
    if args.diversity > 0:
        from engine.explore.rerank import rerank
        from engine.explore.space_choice import resolve_rerank_space
        space = resolve_rerank_space(store, loaded, args.space, args.method)
    with out:                                   # never a partial file behind
        written = _write_recommendations(out, args, loaded, users, items, scores, rerank, space)
    if args.json:
        emit_json({"run_id": args.run, "users": int(len(users)), "rows": written, "out": str(out.path),
                   "diversity": args.diversity, "method": args.method, "space": space})
    else:
        how = f", re-ranked by {args.method} at {args.diversity:g} in the {space} space" if space else ""
        print(f"wrote {written} recommendations for {len(users)} users to {out.path}{how}")
    return 0


def _write_recommendations(out: PendingFile, args, loaded, users, items, scores, rerank, space) -> int:
    from engine.explore.rerank_space import pool_vectors
    ds = loaded.dataset
    written = 0
    with out.open() as fh:
        w = csv.writer(fh)
        w.writerow(["user", "item", "rank", "score"])
        for r, u in enumerate(users):
            it, sc = items[r], scores[r]
            ok = np.isfinite(sc)
            it, sc = it[ok], sc[ok]
            if rerank is not None and len(it) > 1:
                res = rerank(sc, pool_vectors(space, it, dataset=ds, model=loaded.model), min(args.k, len(it)),
                             args.diversity, args.method, genres=_genres(ds, it) if args.method == "calibration" else None,
                             target=_target(loaded, u) if args.method == "calibration" else None,
                             relevance_top=max(args.k, 100))
                it, sc = it[res.order], sc[res.order]
            for rank, (i, s) in enumerate(zip(it[:args.k], sc[:args.k]), start=1):
                w.writerow([ds.user_ids[u], ds.item_ids[i], rank, f"{float(s):.6g}"])
                written += 1
    return written


def cmd_devices(args, store) -> int:
    from engine.runs.training import available_devices
    devices = available_devices()
    if args.json:
        emit_json([{"kind": k, "name": n} for k, n in devices])
    else:
        for kind, name in devices:
            print(f"{kind}: {name}")
    return 0
