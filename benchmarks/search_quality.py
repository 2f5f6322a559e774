"""Search quality per query set: llmrec's hybrid vs lexical-only (BM25) vs dense-only (encoder) vs random,
precision@10 and NDCG@10. The query sets and their relevance are test fixtures
(tests/data/search_queries/*.json), written by hand before any run: relevance comes from catalogue
attributes (X-Wines' labelled fields, genres, the title's year, the demo's description themes),
never from a text match. Every third query (positions 3, 6, ...) is held out: the fusion weights
were chosen on the others (--tune prints that grid), and the held-out rows are shown separately.

    python benchmarks/search_quality.py --db sqlite:////work/scratch/search/real.db \
        --artifacts /work/scratch/search/art [--xwines] [--tweetings] [--demo] [--tune] [--per-query]
    python benchmarks/search_quality.py --fresh ../shared/data [--encoder static|minilm]

--db: the datasets must be in that store (X-Wines as "xwines", MovieTweetings as "tweetings", the
demo as "Demo movies") and encoded (`llmrec encode`) for the dense arm; without vectors the dense rows
are left out and the hybrid is lexical + constraints. --fresh: import them from the shared data
folder into a temporary database and encode them first (MiniLM: minutes on a few CPU cores)."""
from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.data.dataset import load_dataset  # noqa: E402
from engine.errors import EngineError  # noqa: E402
from engine.explore.similarity import attach_semantic, semantic_encoder_name  # noqa: E402
from engine.language.search import FUSION, Fusion, fuse, search_items, search_scores  # noqa: E402
from engine.store import open_store  # noqa: E402

SETS = {"xwines": "xwines.json", "tweetings": "tweetings.json", "demo": "demo.json"}
QUERIES = ROOT / "tests" / "data" / "search_queries"
K = 10
_YEAR = re.compile(r"\((\d{4})\)\s*$")


def load_set(name: str) -> dict:
    return json.loads((QUERIES / SETS[name]).read_text(encoding="utf-8"))


def held_out(position: int) -> bool:
    """Every third query (1-based positions 3, 6, 9, ...) is kept out of tuning."""
    return position % 3 == 2


def attributes(dataset, i: int) -> dict[str, set]:
    """The item's catalogue attributes, read directly (not through the search's facet parser)."""
    out: dict[str, set] = {"genres": set(dataset.genres[i])}
    for part in (dataset.descriptions[i] or "").split("; "):
        label, sep, value = part.partition(": ")
        if sep:
            out.setdefault(label.strip(), set()).update(v.strip() for v in value.split(", "))
    m = _YEAR.search(str(dataset.titles[i]))
    if m:
        out["decade"] = {int(m.group(1)) // 10 * 10}
    out["description_word"] = set(re.findall(r"\w+", (dataset.descriptions[i] or "").lower()))
    return out


def relevant(dataset, rel) -> np.ndarray:
    """(n_items,) bool: every clause [field, values] holds (a word clause also accepts a plural '-s')."""
    attrs = [attributes(dataset, i) for i in range(dataset.n_items)]
    out = np.ones(dataset.n_items, dtype=bool)
    for fld, values in rel:
        want = set(values) | ({v + "s" for v in values} if fld == "description_word" else set())
        out &= np.array([bool(a.get(fld, set()) & want) for a in attrs])
    return out


def top_k(score: np.ndarray, k: int = K) -> np.ndarray:
    return np.argsort(-score, kind="stable")[:k]


def precision_ndcg(top: np.ndarray, rel: np.ndarray) -> tuple[float, float]:
    gains = rel[top].astype(float)
    discounts = 1.0 / np.log2(np.arange(2, len(top) + 2))
    ideal = discounts[:min(int(rel.sum()), len(top))].sum()
    return gains.mean(), (gains @ discounts / ideal if ideal else 0.0)


def random_scores(rel: np.ndarray, rng, draws: int = 50) -> tuple[float, float]:
    """Expected precision and NDCG of a random order (mean of `draws` permutations)."""
    got = [precision_ndcg(rng.permutation(len(rel))[:K], rel) for _ in range(draws)]
    return tuple(np.mean(got, axis=0))


def prepare(store, name: str, encoder_cache: dict) -> tuple:
    spec = load_set(name)
    ds = load_dataset(store, spec["dataset"], with_interactions=False)
    try:
        attach_semantic(store, ds)
        dense = True
    except EngineError as e:
        print(f"[{name}] no dense arm: {e}")
        dense = False
    encoder = None
    if dense:
        from engine.encoder.catalogue import encoder_by_name
        enc_name = semantic_encoder_name(ds)
        encoder = encoder_cache.setdefault(enc_name, encoder_by_name(enc_name))
    rows = []
    for pos, q in enumerate(spec["queries"]):
        rel = relevant(ds, q["rel"])
        hybrid = search_scores(ds, q["q"], mode="hybrid", encoder=encoder)
        rows.append({"q": q["q"], "held_out": held_out(pos), "rel": rel, "parts": hybrid,
                     "before": hybrid["meaning"] + 0.6 * hybrid["titles"]})
    return ds, rows, dense


def evaluate(rows, dense: bool, fusion: Fusion, rng) -> dict[str, list]:
    """Per method, one (precision, ndcg, held_out) per query."""
    out: dict[str, list] = {m: [] for m in ("llmrec hybrid", "lexical only", "dense only", "random",
                                            "hybrid, no constraints", "hybrid, constraints as filter",
                                            "before (cosine + title)")}
    for r in rows:
        p = r["parts"]
        scores = {"llmrec hybrid": fuse(p, fusion, dense=dense), "lexical only": p["lexical"],
                  "hybrid, no constraints": fuse({**p, "met": 0 * p["met"]}, fusion, dense=dense),
                  "hybrid, constraints as filter": fuse({**p, "met": 0 * p["met"]}, fusion, dense=dense)
                  + 1000.0 * (p["met"] >= 1.0)}
        if dense:
            scores["dense only"] = p["meaning"]
            scores["before (cosine + title)"] = r["before"]
        for m, s in scores.items():
            out[m].append((*precision_ndcg(top_k(s), r["rel"]), r["held_out"]))
        out["random"].append((*random_scores(r["rel"], rng), r["held_out"]))
    return {m: v for m, v in out.items() if v}


def summary(values, which=None) -> tuple[float, float]:
    vals = [(p, n) for p, n, h in values if which is None or h == which]
    return tuple(np.mean(vals, axis=0)) if vals else (float("nan"), float("nan"))


def print_table(name: str, n_items: int, rows, results) -> None:
    n_held = sum(r["held_out"] for r in rows)
    print(f"\n{name}: {len(rows)} queries ({len(rows) - n_held} tuning, {n_held} held out), {n_items} items")
    print(f"  {'method':32s} {'P@10':>6s} {'NDCG@10':>8s} | {'tuning P':>8s} {'NDCG':>6s} | {'held-out P':>10s} {'NDCG':>6s}")
    for m, v in results.items():
        a, t, h = summary(v), summary(v, False), summary(v, True)
        print(f"  {m:32s} {a[0]:6.3f} {a[1]:8.3f} | {t[0]:8.3f} {t[1]:6.3f} | {h[0]:10.3f} {h[1]:6.3f}")


def timings(ds, rows, dense: bool, encoder_cache: dict) -> str:
    """Median wall time of one search_items call per mode over the set's queries (after a warm-up)."""
    import time
    encoder = encoder_cache.get(semantic_encoder_name(ds)) if dense else None
    out = []
    for mode in ("hybrid", "lexical") + (("dense",) if dense else ()):
        search_items(ds, rows[0]["q"], K, mode=mode, encoder=encoder)
        took = []
        for r in rows:
            t = time.perf_counter()
            search_items(ds, r["q"], K, mode=mode, encoder=encoder)
            took.append(time.perf_counter() - t)
        out.append(f"{mode} {np.median(took) * 1000:.1f} ms")
    return "median per query: " + ", ".join(out)


def tune(prepared, rng) -> None:
    """Mean tuning-query NDCG@10 over the sets for a grid of fusion weights (held-out queries unused)."""
    grid = []
    for lex, dense, fac, title, k in itertools.product((0.5, 1.0, 2.0), (0.5, 1.0, 2.0), (0.0, 0.5, 1.0, 2.0, 5.0),
                                                         (0.0, 0.3), (10, 60)):
        f = Fusion(lexical=lex, dense=dense, facets=fac, title=title, rrf_k=k)
        per_set = []
        for _name, (_ds, rows, dense_ok) in prepared.items():
            tuning = [r for r in rows if not r["held_out"]]
            res = evaluate(tuning, dense_ok, f, rng)["llmrec hybrid"]
            per_set.append(summary(res)[1])
        grid.append((float(np.mean(per_set)), per_set, f))
    grid.sort(key=lambda g: -g[0])
    print("\nTuning grid (mean tuning NDCG@10 over the sets; per set):")
    for mean, per_set, f in grid[:10]:
        print(f"  {mean:.3f}  {' '.join(f'{x:.3f}' for x in per_set)}  {f}")


def fresh_store(folder: Path, shared: Path, encoder: str = "minilm"):
    """A new SQLite store in `folder` with X-Wines, MovieTweetings and the demo imported and encoded."""
    import zipfile

    from engine.data.demo import create_demo_dataset
    from engine.encoder.catalogue import encode_catalogue
    from engine.ingest import import_files
    with zipfile.ZipFile(shared / "x-wines-slim" / "XWines_Slim_1K_wines_150K_ratings.zip") as zf:
        zf.extractall(folder)
    store = open_store(str(folder / "search.db"))
    import_files(store, [folder / "XWines_Slim_150K_ratings.csv", folder / "XWines_Slim_1K_wines.csv"], name="xwines")
    import_files(store, [shared / "movietweetings-100k"], name="tweetings")
    create_demo_dataset(store)
    for name in ("xwines", "tweetings", "Demo movies"):
        encode_catalogue(store, load_dataset(store, name, with_interactions=False), encoder=encoder)
    return store


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", help="a database holding the three datasets, encoded")
    ap.add_argument("--artifacts", default=None)
    ap.add_argument("--fresh", metavar="SHARED_DATA", help="import the datasets from this folder into a temporary database")
    ap.add_argument("--encoder", default="minilm", choices=("minilm", "static"), help="with --fresh")
    for name in SETS:
        ap.add_argument(f"--{name}", action="store_true", help=f"the {name} query set")
    ap.add_argument("--tune", action="store_true", help="print the fusion-weight grid on the tuning queries")
    ap.add_argument("--per-query", action="store_true", help="NDCG@10 of each query: hybrid, lexical, dense")
    args = ap.parse_args(argv)
    chosen = [n for n in SETS if getattr(args, n)] or list(SETS)
    if bool(args.db) == bool(args.fresh):
        ap.error("give --db or --fresh")
    import tempfile
    tmp = tempfile.TemporaryDirectory()
    store = (fresh_store(Path(tmp.name), Path(args.fresh), args.encoder) if args.fresh
             else open_store(args.db, artifacts=args.artifacts))
    rng = np.random.default_rng(0)
    encoders: dict = {}
    prepared = {name: prepare(store, name, encoders) for name in chosen}
    print(f"fusion: {FUSION}")
    for name, (ds, rows, dense) in prepared.items():
        results = evaluate(rows, dense, FUSION, rng)
        print_table(name, ds.n_items, rows, results)
        print(f"  {timings(ds, rows, dense, encoders)}")
        if args.per_query:
            for r, h, lx, dn in zip(rows, results["llmrec hybrid"], results["lexical only"],
                                    results.get("dense only", results["lexical only"])):
                mark = " (held out)" if r["held_out"] else ""
                print(f"    {r['q']!r:40s} hybrid {h[1]:.2f}  lexical {lx[1]:.2f}  dense {dn[1]:.2f}  "
                      f"[{int(r['rel'].sum())} relevant]{mark}")
    if args.tune:
        tune(prepared, rng)
    store.close()
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
