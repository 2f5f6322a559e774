"""Plain-words feedback on the fixture tests/data/plain_words/utterances.json (issue 21): per form, the share
of utterances whose understood actions equal the expected ones (intent accuracy) and whose list moved as
expected on a real run (list-effect accuracy); totals, and the held-out third on its own.

    python benchmarks/plain_words.py [--demo] [--xwines] [--tweetings] [--db URL] [--fixture FILE] [--failures]

Without --db it builds a database in a temporary folder: the demo dataset, X-Wines and MovieTweetings from
../shared/data, one itemknn run each (fitted on all interactions: about 30 s). The list effect is measured on
that run's live list of the utterance's user (engine.explore.live_list, feedback kept in memory)."""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FIXTURE = ROOT / "tests" / "data" / "plain_words" / "utterances.json"
SHARED = ROOT.parent / "shared" / "data"
NAMES = {"demo": "Demo movies", "xwines": "xwines", "tweetings": "tweetings"}


def load_utterances(datasets=None, path: Path = FIXTURE) -> list[dict]:
    rows = json.loads(Path(path).read_text(encoding="utf-8"))
    return [r for r in rows if datasets is None or r["dataset"] in datasets]


def build_store(path: str, datasets, artifacts: str | None = None):
    """A database with the datasets the fixture uses and one itemknn run each (made when missing)."""
    from engine.data.demo import create_demo_dataset
    from engine.ingest.importer import import_files
    from engine.runs.baselines import fit_baseline
    from engine.store import open_store
    from engine.store import repository as repo
    store = open_store(path, artifacts=artifacts)
    with store.session() as s:
        have = {d.name: d for d in repo.list_datasets(s)}
    for short in datasets:
        name = NAMES[short]
        if name not in have:
            if short == "demo":
                create_demo_dataset(store)
            elif short == "xwines":
                import_files(store, [SHARED / "x-wines-slim" / "XWines_Slim_1K_wines_150K_ratings.zip"], name=name)
            else:
                import_files(store, [SHARED / "movietweetings-100k"], name=name)
        with store.session() as s:
            ds_id = next(d.id for d in repo.list_datasets(s) if d.name == name)
            runs = repo.list_runs(s, ds_id)
        if not runs:
            fit_baseline(store, name, "itemknn", holdout=False)
    return store


class Bench:
    """The loaded datasets and runs the fixture is measured on."""

    def __init__(self, store):
        from engine.data.dataset import load_dataset
        from engine.runs.loaded import load_run
        from engine.store import repository as repo
        self.store, self.runs = store, {}
        self._load_dataset, self._load_run, self._repo = load_dataset, load_run, repo

    def run(self, short: str):
        if short not in self.runs:
            ds = self._load_dataset(self.store, NAMES[short])
            with self.store.session() as s:
                run_id = self._repo.list_runs(s, ds.info.id)[-1].id
            self.runs[short] = self._load_run(self.store, run_id)
        return self.runs[short]


def actual_intent(u, ds) -> tuple[set, list]:
    """What the parser understood, in the fixture's terms (external ids, category strings)."""
    acts = set()
    for a in u.actions:
        items = frozenset(str(ds.item_ids[i]) for i in a.items)
        acts.add((a.kind, items, frozenset(a.categories), int(np.sign(a.weight)) if a.kind == "weight" else 0))
    return acts, [frozenset(str(ds.item_ids[i]) for i in q.items) for q in u.questions]


def expected_intent(row) -> tuple[set, list]:
    acts = set()
    for a in row["expect"]["actions"]:
        acts.add((a["kind"], frozenset(a.get("items", ())), frozenset(a.get("categories", ())),
                  int(np.sign(a.get("weight", 0))) if a["kind"] == "weight" else 0))
    return acts, [frozenset(q["items"]) for q in row["expect"]["questions"]]


def intent_ok(row, u, ds) -> bool:
    got_a, got_q = actual_intent(u, ds)
    want_a, want_q = expected_intent(row)
    if got_a != want_a or len(got_q) != len(want_q) or u.not_understood:
        return False
    return all(g <= w and len(g) >= min(2, len(w)) for g, w in zip(got_q, want_q))


def effect_ok(row, u, run) -> tuple[bool, str]:
    """Apply the understood sentence to the user's live list and check the expected effect."""
    from engine.data.dataset import index_of
    from engine.explore.categories import category_mask
    from engine.explore.live_list import UserRecommendations
    from engine.explore.similarity import nearest_items
    from engine.language.plain_words import apply
    ds = run.dataset
    user = index_of(ds.user_ids, row["user"], "user", ds.info.name)
    recs = UserRecommendations(run, user)
    before = [r.item for r in recs.rerank(0.0, "mmr", 10).rows]
    eff = row["effect"]
    items = [index_of(ds.item_ids, x, "item", ds.info.name) for x in eff.get("items", ())]
    nb = None
    if eff["kind"] == "leans":
        nb = set(nearest_items(items, recs._space(), dataset=ds, model=run.model, n=20)[0][0].tolist())
    if u.actions:
        apply(u, recs)
    after = [r.item for r in recs.rerank(0.0, "mmr", 10).rows]
    kind = eff["kind"]
    if kind == "unchanged":
        return after == before, "list changed"
    if kind in ("leaves", "joins_history", "leaves_only"):
        if not set(items) <= set(before):
            return False, "precondition: target not in the list before"
        if set(items) & set(after):
            return False, "target still in the list"
        if kind == "joins_history" and not set(items) <= set(recs.history()[0].tolist()):
            return False, "target not in the history"
        if kind == "leaves_only":
            rest = [i for i in before if i not in items]
            return after[:len(rest)] == rest, "other items moved"
        return True, ""
    if kind == "leans":
        b, a = len(nb & set(before)), len(nb & set(after))
        return a > b or b >= 9, f"neighbours in the list {b} -> {a}"
    if kind == "hidden":
        mask = np.zeros(ds.n_items, bool)
        for c in eff["categories"]:
            mask |= category_mask(ds, c)
        if not mask[before].any():
            return False, "precondition: no item of the category before"
        return not mask[after].any(), "category still in the list"
    if kind == "soft":
        down = np.zeros(ds.n_items, bool)
        up = np.zeros(ds.n_items, bool)
        for c in eff["down"]:
            down |= category_mask(ds, c)
        for c in eff["up"]:
            up |= category_mask(ds, c)
        db, da, ub, ua = down[before].sum(), down[after].sum(), up[before].sum(), up[after].sum()
        pool = recs.candidates().items
        still = bool(down[pool].any()) or not down[before].any()
        ok = da <= db and ua >= ub and (da < db or ua > ub) and still
        return ok, f"down {db}->{da}, up {ub}->{ua}, down still in the pool: {still}"
    if kind == "less_popular":
        from engine.language.plain_words import LESS_POPULAR_SHARE
        from engine.language.titles import title_index
        pop = title_index(ds).popularity
        n = max(1, int(round(LESS_POPULAR_SHARE * len(before))))
        gone = sorted(before, key=lambda i: -pop[i])[:n]
        return not set(gone) & set(after), "popular items stayed"
    return False, f"unknown effect {kind}"


def evaluate(bench: Bench, rows, encoder=None) -> list[dict]:
    from engine.language.plain_words import understand
    out = []
    for row in rows:
        run = bench.run(row["dataset"])
        t = time.perf_counter()
        u = understand(row["text"], run.dataset, encoder=encoder)
        seconds = time.perf_counter() - t
        i_ok = intent_ok(row, u, run.dataset)
        e_ok, why = effect_ok(row, u, run)
        out.append({"id": row["id"], "form": row["form"], "dataset": row["dataset"], "held_out": row["held_out"],
                    "text": row["text"], "intent": i_ok, "effect": e_ok, "why": why, "seconds": seconds,
                    "understood": u.describe(run.dataset)})
    return out


def table(results, title: str) -> None:
    by = defaultdict(list)
    for r in results:
        by[r["form"]].append(r)
    print(f"\n{title}\n{'form':<26} {'n':>4} {'intent':>8} {'effect':>8}")
    for form in sorted(by):
        rs = by[form]
        print(f"{form:<26} {len(rs):>4} {100 * np.mean([r['intent'] for r in rs]):>7.1f}% "
              f"{100 * np.mean([r['effect'] for r in rs]):>7.1f}%")
    if results:
        print(f"{'total':<26} {len(results):>4} {100 * np.mean([r['intent'] for r in results]):>7.1f}% "
              f"{100 * np.mean([r['effect'] for r in results]):>7.1f}%")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for short in NAMES:
        ap.add_argument(f"--{short}", action="store_true", help=f"only the {NAMES[short]} part (combinable)")
    ap.add_argument("--db", help="a database with the datasets and an itemknn run each (default: built in a temp folder)")
    ap.add_argument("--artifacts")
    ap.add_argument("--fixture", default=str(FIXTURE), help="another utterance file in the same format (a held-out set)")
    ap.add_argument("--failures", action="store_true", help="print each failed utterance and what was understood")
    args = ap.parse_args()
    chosen = [s for s in NAMES if getattr(args, s)] or list(NAMES)
    if not (SHARED.exists() or args.db):
        chosen = ["demo"]
        print(f"{SHARED} is absent: the demo part only", file=sys.stderr)
    rows = load_utterances(chosen, args.fixture)
    for k, row in enumerate(rows):
        row.setdefault("id", k + 1)
        row.setdefault("held_out", False)
    tmp = None
    if args.db is None:
        tmp = tempfile.TemporaryDirectory()
        args.db, args.artifacts = str(Path(tmp.name) / "bench.db"), str(Path(tmp.name) / "art")
    t = time.perf_counter()
    store = build_store(args.db, chosen, args.artifacts)
    print(f"datasets and runs ready in {time.perf_counter() - t:.1f} s ({', '.join(chosen)})")
    results = evaluate(Bench(store), rows)
    table(results, f"all {len(results)} utterances")
    table([r for r in results if not r["held_out"]], "tuned part (two thirds)")
    table([r for r in results if r["held_out"]], "held-out part (every third utterance, not tuned on)")
    for short in chosen:
        part = [r for r in results if r["dataset"] == short]
        print(f"{short}: intent {100 * np.mean([r['intent'] for r in part]):.1f}%, "
              f"effect {100 * np.mean([r['effect'] for r in part]):.1f}% ({len(part)})")
    ms = [1000 * r["seconds"] for r in results]
    print(f"understand(): median {np.median(ms):.1f} ms, max {max(ms):.1f} ms per sentence")
    if args.failures:
        for r in results:
            if not (r["intent"] and r["effect"]):
                print(f"\n#{r['id']} {r['dataset']} {r['form']}{' (held out)' if r['held_out'] else ''}: {r['text']!r}"
                      f"\n  intent {'ok' if r['intent'] else 'WRONG'}, effect {'ok' if r['effect'] else 'WRONG'}"
                      f" {r['why']}\n  " + "\n  ".join(r["understood"]))
    store.close()
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
