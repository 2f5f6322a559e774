"""Incremental learning on MovieTweetings split in time: train on the first 80 % of the events, append the
next 10 % (`import --append`: new users, new items, new events), then test on the last 10 %:

  * no update     the 80 % run as it is (new events are read as history by the user tower, new items
                  are never recommended),
  * fold-in       `fold_in_items`: new items get vectors from their text through the run's item tower,
  * warm start    `llmrec train --warm-start`: the 80 % run fine-tuned on the 90 % for --warm-epochs epochs,
  * full retrain  a new run trained on the 90 %.

NDCG@10 over the whole catalogue of the 90 % (history excluded) for users with a positive in the last
10 % on an item of that catalogue, with the time each update took, all in the same run. Every training
uses the default item-text input (--text-encoder, default minilm) and no tuning (the same fixed
settings for all; tuning would add its 900 s budget to the base run and the retrain alike).

    nice -n 10 python benchmarks/incremental_movietweetings.py [--epochs 4] [--warm-epochs 2]
        [--text-encoder minilm|lstm] [--work DIR]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "movietweetings-100k"


def split_files(work: Path) -> tuple[Path, Path, list[tuple[str, str, float, int]]]:
    rows = [line.split("::") for line in (DATA / "ratings.dat").read_text(encoding="utf-8").splitlines() if line]
    rows.sort(key=lambda r: int(r[3]))
    n = len(rows)
    a, b = int(0.8 * n), int(0.9 * n)
    movies = {line.split("::", 1)[0]: line for line in (DATA / "movies.dat").read_text(encoding="utf-8").splitlines() if line}
    first, add = work / "mt80", work / "mt90add"
    for folder, part in ((first, rows[:a]), (add, rows[a:b])):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "ratings.dat").write_text("".join("::".join(r) + "\n" for r in part), encoding="utf-8")
        items = {r[1] for r in part}         # the appended file names every item it uses (old ones keep their text)
        (folder / "movies.dat").write_text("".join(movies[i] + "\n" for i in sorted(items) if i in movies),
                                           encoding="utf-8")
    test = [(r[0], r[1], float(r[2]), int(r[3])) for r in rows[b:]]
    return first, add, test


def ndcg_future(run, test, threshold: float) -> tuple[float, int]:
    ds = run.dataset
    users = {u: k for k, u in enumerate(ds.user_ids)}
    items = {i: k for k, i in enumerate(ds.item_ids)}
    targets: dict[int, set[int]] = {}
    for u, i, r, _t in test:
        if r >= threshold and u in users and i in items:
            targets.setdefault(users[u], set()).add(items[i])
    ulist = sorted(targets)
    scores_sum, n = 0.0, 0
    discount = 1.0 / np.log2(np.arange(2, 12))
    for a in range(0, len(ulist), 256):
        batch = ulist[a:a + 256]
        hs = [run.history(u, whole=True) for u in batch]
        s = np.full((len(batch), ds.n_items), -np.inf, np.float32)
        got = np.asarray(run.model.score_many([h[0] for h in hs], [h[1] for h in hs]), np.float32)
        s[:, :got.shape[1]] = got
        for r, (u, h) in enumerate(zip(batch, hs)):
            s[r, h[0]] = -np.inf
            t = targets[u] - set(h[0].tolist())
            if not t:
                continue
            top = np.argsort(-s[r], kind="stable")[:10]
            dcg = float(sum(discount[k] for k, i in enumerate(top) if int(i) in t))
            ideal = float(discount[:min(10, len(t))].sum())
            scores_sum += dcg / ideal
            n += 1
    return scores_sum / max(n, 1), n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--warm-epochs", type=int, default=2)
    ap.add_argument("--text-encoder", default="minilm", choices=("minilm", "lstm"))
    ap.add_argument("--work")
    args = ap.parse_args()
    from engine.ingest import import_files
    from engine.ingest.append import append_files
    from engine.runs.foldin import fold_in_items
    from engine.runs.loaded import load_run
    from engine.runs.training import TrainConfig, run_training
    from engine.store import open_store
    work = Path(args.work or tempfile.mkdtemp(prefix="llmrec-incremental-"))
    first, add, test = split_files(work)
    store = open_store(str(work / "inc.db"))
    from engine.store import repository as repo
    with store.session() as s:                 # resume: reuse the 80 % dataset and run of an earlier try
        runs = repo.list_runs(s) if repo.dataset_exists(s, "MT-time") else []
        fresh = not runs and not repo.dataset_exists(s, "MT-time")
    if fresh:
        import_files(store, [str(first)], name="MT-time")
    t = time.perf_counter()
    settings = dict(holdout=False, device="cpu", tune=False, extra={"text_encoder": args.text_encoder})
    base = runs[0].id if runs else run_training(TrainConfig(dataset="MT-time", epochs=args.epochs, **settings),
                                                store).run_id
    t_base = runs[0].seconds if runs else time.perf_counter() - t
    t = time.perf_counter()
    appended = append_files(store, [str(add)], "MT-time")
    t_append = time.perf_counter() - t
    t = time.perf_counter()
    folded = fold_in_items(store, base)
    t_fold = time.perf_counter() - t
    t = time.perf_counter()
    warm = run_training(TrainConfig(dataset="", warm_start=base, epochs=args.warm_epochs, device="cpu"), store).run_id
    t_warm = time.perf_counter() - t
    t = time.perf_counter()
    full = run_training(TrainConfig(dataset="MT-time", epochs=args.epochs, **settings), store).run_id
    t_full = time.perf_counter() - t
    threshold = load_run(store, base).dataset.positive_threshold
    print(f"MovieTweetings in time: {len(test):,} test events; appended +{appended.new_users:,} users, "
          f"+{appended.new_items:,} items, +{appended.new_interactions:,} events in {t_append:.1f} s")
    print(f"{'update':<18} {'NDCG@10':>8} {'users':>6} {'seconds':>8}")
    for label, run_id, secs in (("no update", base, 0.0), ("fold-in", folded, t_fold),
                                (f"warm start {args.warm_epochs} ep", warm, t_warm), ("full retrain", full, t_full)):
        v, n = ndcg_future(load_run(store, run_id), test, threshold)
        print(f"{label:<18} {v:>8.4f} {n:>6} {secs:>8.1f}")
    print(f"(the 80 % run took {t_base:.1f} s to train; epochs <= {args.epochs}, early stopping on the end of TRAIN, "
          f"then a refit; text input {args.text_encoder}; no tuning)")
    store.close()


if __name__ == "__main__":
    main()
