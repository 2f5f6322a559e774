"""Scale on one machine: every figure beside its reference, measured in the same run.

Sections (each can be skipped):
  demo      `llmrec demo --users --items --interactions` at each size (child process: wall, CPU, peak RSS),
            reference: the bundled in-memory demo generator + write_dataset.
  ann       faiss IVF-SQ8 + exact re-rank (nprobe tuned to recall 0.98) vs IVF-Flat on the same lists and exact
            numpy search (d = 128): build time, recall@100, p50 per-query latency, index memory.
            With --real-db: the trained MovieTweetings LSTM run's 10,506 item vectors and 200 test users'
            vectors, then N items made from those vectors plus noise as large as the real nearest-neighbour
            distance (no model is trained on a million items here); else synthetic clustered vectors.
  int8      memory and exact-scoring latency of int8 item vectors vs float32 at the same N.
  explore   a 1M-item catalogue end to end (child process): `llmrec demo` data, a two-tower run with the
            synthetic vectors and a user tower that averages recent item vectors, `build_run_index`, then pick -> list (the
            app's UserRecommendations) with the index (item vectors in memory, and read on demand as the app
            loads them) vs exact scoring, the slider re-rank, a dislike, rows read per pick, peak RSS; and the
            app's lean run (open_explore_run: users + catalogue, one user read per pick, streamed counts; item
            vectors on demand): its open time, pick p50 and whether its lists equal the index column's.
  app       the real app (`llmrec-gui` offscreen) on the explore section's database, its run open and a user
            explored: peak RSS (VmHWM) of the app process and of the store process, polled from /proc
            (--app-fresh-counts: the counts cache removed first, so the app streams the counts itself).
  picker    1M user ids: the lazy model's search per keystroke (CPU of the GUI thread) vs the previous
            QStandardItemModel + QSortFilterProxyModel on the same ids.
  real      int8 vs float32 NDCG@10 of trained LSTM runs in --real-db (e.g. MovieTweetings, X-Wines).
  train     LSTM training from the exported, memory-mapped examples at each --train-interactions size
            (62,000 items, users grow with K; `--work DIR` keeps the databases and exports for a re-run):
            export time and RSS, examples/s over --train-batches batches and peak RSS (child processes),
            reference: the same loop on the 100k examples held in memory.

    nice -n 10 python benchmarks/scale.py [--interactions 100000,1000000] [--ann-items 100000,1000000]
        [--sections demo,ann,int8,explore,app,picker,real,train] [--real-db DB] [--work DIR --reuse]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def child(argv: list[str], env: dict | None = None) -> tuple[float, float, float, str]:
    """(wall s, CPU s, peak RSS MiB, stdout) of a child process. Peak RSS comes from GNU time when
    present: Linux carries a parent's peak RSS into a forked child's rusage, so a child of this (large)
    process would otherwise report at least the parent's size."""
    gnu_time = Path("/usr/bin/time")
    prefix = [str(gnu_time), "-f", "__RSS_KB__ %M"] if gnu_time.exists() else []
    t0 = time.perf_counter()
    out = tempfile.TemporaryFile(mode="w+")
    p = subprocess.Popen(prefix + argv, stdout=out, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                         env={**os.environ, **(env or {})})
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    err = p.stderr.read()
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{argv[:4]} failed: {err.strip()[-800:]}")
    rss = usage.ru_maxrss / 1024
    for line in err.splitlines():
        if line.startswith("__RSS_KB__"):
            rss = int(line.split()[1]) / 1024
    out.seek(0)
    return wall, usage.ru_utime + usage.ru_stime, rss, out.read()


def sizes_for(k: int) -> tuple[int, int]:
    """(users, items) for K interactions: 25M -> 162,500 users and 1M items (MovieLens-25M-like users,
    a shop's catalogue); smaller K scale both down."""
    return max(100, k * 162_500 // 25_000_000), max(1000, min(1_000_000, k // 25))


# ---- demo ---------------------------------------------------------------------------------------

REF_DEMO = """
import json, resource, time, sys
from engine.data.demo import generate_demo
from engine.data.dataset import write_dataset
from engine.store import open_store
t = time.perf_counter(); s = open_store(sys.argv[1]); d = generate_demo()
write_dataset(s, "ref", **d); print(json.dumps({"n": len(d["user_idx"]), "s": time.perf_counter() - t}))
"""


def section_demo(ks: list[int], work: Path) -> None:
    print("\n== demo generation (`llmrec demo --users U --items I --interactions K`, child process) ==")
    db = work / "ref.db"
    wall, cpu, ref_rss, out = child([sys.executable, "-c", REF_DEMO, str(db)])
    ref = json.loads(out)
    rss = ref_rss
    print(f"reference: bundled demo (in memory, then write_dataset): {ref['n']:,} rows in {wall:.1f} s wall "
          f"({ref['n'] / wall:,.0f} rows/s, CPU {cpu:.1f} s), peak RSS {rss:.0f} MiB")
    ref_rate = ref["n"] / wall
    print(f"{'K':>11} {'users':>8} {'items':>9} | {'wall s':>7} {'CPU s':>6} {'rows/s':>9} {'x ref':>6} | "
          f"{'RSS MiB':>7} {'x ref':>6}")
    for k in ks:
        users, items = sizes_for(k)
        db = work / f"demo-{k}.db"
        wall, cpu, rss, out = child([sys.executable, "-m", "engine.cli.main", "--db", str(db), "demo", "--users",
                                     str(users), "--items", str(items), "--interactions", str(k), "--json"])
        n = json.loads(out)["n_interactions"]
        print(f"{k:>11,} {users:>8,} {items:>9,} | {wall:>7.1f} {cpu:>6.1f} {n / wall:>9,.0f} "
              f"{(n / wall) / ref_rate:>6.2f} | {rss:>7.0f} {rss / ref_rss:>6.2f}")
        for f in work.glob(db.name + "*"):
            f.unlink()


# ---- ANN and int8 --------------------------------------------------------------------------------

def clustered(n: int, d: int = 128, clusters: int = 1000, seed: int = 0, chunk: int = 200_000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, d)).astype(np.float32)
    out = np.empty((n, d), np.float32)
    for a in range(0, n, chunk):
        b = min(n, a + chunk)
        x = centres[rng.integers(0, clusters, b - a)] + 0.7 * rng.normal(size=(b - a, d)).astype(np.float32)
        out[a:b] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def jittered(n: int, source: str, seed: int = 0, chunk: int = 200_000) -> np.ndarray:
    """n unit vectors made from a trained run's item vectors: each a random real vector plus Gaussian
    noise as large as the typical distance to a real vector's nearest neighbour, so the catalogue keeps
    the real space's structure but no two items coincide."""
    with np.load(source) as z:
        real, sigma = z["vectors"].astype(np.float32), float(z["sigma"])
    rng = np.random.default_rng(seed)
    out = np.empty((n, real.shape[1]), np.float32)
    for a in range(0, n, chunk):
        b = min(n, a + chunk)
        x = real[rng.integers(0, len(real), b - a)] + sigma * rng.normal(size=(b - a, real.shape[1])).astype(np.float32)
        out[a:b] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def jitter_source(x: np.ndarray, path: Path) -> str:
    """Save the real vectors and the noise scale: median nearest-neighbour distance / sqrt(d)."""
    from engine.retrieval.index import exact_search
    sample = x[np.random.default_rng(0).choice(len(x), min(2000, len(x)), replace=False)]
    _, sims = exact_search(x, sample, 2)
    nn = np.sqrt(np.maximum(0.0, 2 - 2 * sims[:, 1]))
    np.savez(path, vectors=x, sigma=float(np.median(nn)) / np.sqrt(x.shape[1]))
    return str(path)


def real_vectors(db: str, dataset: str = "movietweetings") -> tuple[np.ndarray, np.ndarray, str] | None:
    """(item vectors, 200 test users' query vectors, label) of a float32 LSTM run on `dataset`."""
    from engine.runs.loaded import load_run
    from engine.store import open_store
    from engine.store import repository as repo
    store = open_store(db)
    try:
        with store.session() as s:
            runs = [r for r in repo.list_runs(s) if r.model == "lstm" and r.holdout
                    and dataset in r.dataset_name.lower() and not r.config.get("item_vectors")]
        if not runs:
            return None
        run = load_run(store, runs[0].id)
        hs = [run.split.history(int(u)) for u in run.split.test_users[:200]]
        q = run.model.query_vectors([h[0] for h in hs], [h[1] for h in hs])
        return np.asarray(run.model.item_vectors(), np.float32), q, f"run {runs[0].id} on {runs[0].dataset_name}"
    finally:
        store.close()


def queries_like(x: np.ndarray, n: int, seed: int = 1) -> np.ndarray:
    """User-like queries: the normalised mean of 10 random items plus noise."""
    rng = np.random.default_rng(seed)
    q = x[rng.integers(0, len(x), (n, 10))].mean(axis=1) + 0.05 * rng.normal(size=(n, x.shape[1]))
    return (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)


def p50_ms(fn, qs: np.ndarray) -> float:
    times = []
    for q in qs:
        t = time.perf_counter()
        fn(q[None, :])
        times.append(time.perf_counter() - t)
    return 1000 * float(np.median(times))


def index_mib(index) -> float:
    """The index's own memory: codes (or float32 vectors) plus ids (IVF), or the file size's equivalent."""
    import faiss
    ix = index.index
    if hasattr(ix, "nlist"):
        return ix.ntotal * (ix.code_size + 8) / 2**20
    return faiss.serialize_index(ix).nbytes / 2**20


def ann_row(label: str, x: np.ndarray, qs: np.ndarray, do_int8: bool) -> None:
    """The default index (IVF over 8-bit codes, short list re-ranked exactly) with nprobe tuned on the
    first half of the queries; recall and latency on the other half. Reference in the same run: IVF-Flat
    (the previous default) over the very same lists, and exact numpy search."""
    from dataclasses import replace

    import faiss

    from engine.retrieval.index import ItemIndex, build_index, exact_search, recall
    from engine.retrieval.quantize import QuantizedVectors
    tune_q, test_q = qs[: len(qs) // 2], qs[len(qs) // 2:]
    exact_ids, _ = exact_search(x, test_q, 100)
    t = time.perf_counter()
    index = build_index(x, queries=tune_q)
    build = time.perf_counter() - t
    t = time.perf_counter()
    ix = index.index
    flat = faiss.IndexIVFFlat(faiss.clone_index(ix.quantizer), ix.d, ix.nlist, faiss.METRIC_INNER_PRODUCT)
    flat.add(x)
    flat = ItemIndex(flat, replace(index.params, kind="ivf"))
    flat_add = time.perf_counter() - t
    exact = p50_ms(lambda q: exact_search(x, q, 100), test_q[:30])
    tuned = index.params.nprobe
    print(f"{'':<44} {'':>9}   nlist {index.params.nlist}; tuning (recall@100 by nprobe, {len(tune_q)} queries): "
          f"{index.tuning['recall_by_nprobe']}")
    print(f"{'':<44} {'':>9}   index memory: ivf-sq8 {index_mib(index):,.0f} MiB (+ the run's own vectors, "
          f"{x.nbytes / 2**20:,.0f} MiB, for the re-rank), ivf-flat {index_mib(flat):,.0f} MiB; "
          f"IVF-Flat reference built on the same lists in {flat_add:.1f} s")
    for nprobe in (tuned, 2 * tuned):
        for name, ix in (("ivf-sq8", index), ("ivf-flat(ref)", flat)):
            ix.params = replace(ix.params, nprobe=nprobe)
            ids, _ = ix.search(test_q, 100)
            r = recall(ids, exact_ids)
            ann = p50_ms(lambda q: ix.search(q, 100), test_q[:100])
            omp = p50_ms(lambda q: ix._search(np.ascontiguousarray(q, np.float32), 100), test_q[:100])
            print(f"{label[:18] + f' {name} nprobe={nprobe}':<44} {len(x):>9,} | {build:>7.1f} | {r:>10.4f} | "
                  f"{ann:>10.2f} | {exact:>12.1f} | {exact / ann:>7.0f}x   (all OpenMP threads: {omp:.2f} ms)")
    exact_ids = exact_search(x, qs, 100)[0]
    if do_int8:
        q8 = QuantizedVectors.from_float(x)
        e8 = p50_ms(lambda q: q8.dot_rows(q), qs[:30])
        ef = p50_ms(lambda q: q @ x.T, qs[:30])
        ids8 = np.argsort(-q8.dot_rows(qs[:50]), axis=1)[:, :100]
        print(f"{'':<44} {'':>9}   int8: {q8.nbytes / 2**20:,.1f} MiB vs float32 {x.nbytes / 2**20:,.1f} MiB "
              f"({x.nbytes / q8.nbytes:.2f}x smaller); exact top-100 overlap with float32 "
              f"{recall(ids8, exact_ids[:50]):.4f}; full scoring p50 {e8:.1f} ms vs float32 {ef:.1f} ms")


def section_ann(ns: list[int], do_int8: bool, real_db: str | None, work: Path) -> str | None:
    """Returns the jitter source file (real item vectors + noise scale) when a real run was found."""
    print("\n== ANN candidate retrieval: faiss IVF over 8-bit codes + exact re-rank of 2k (nlist ~ 4 sqrt(N), nprobe "
          "tuned on half the queries, measured on the other half) vs IVF-Flat on the same lists and exact numpy ==")
    print("p50 ANN: one query per call, one OpenMP thread (the engine's default for single queries)")
    print(f"{'vectors':<44} {'items':>9} | {'build s':>7} | {'recall@100':>10} | {'p50 ANN ms':>10} | "
          f"{'p50 exact ms':>12} | speed-up")
    print(f"{'(targets at 1M items)':<44} {'':>9} | {'':>7} | {'>= 0.98':>10} | {'<= 5':>10} |")
    moments = None
    real = real_vectors(real_db) if real_db else None
    if real is not None:
        x, qs, label = real
        ann_row(f"real: LSTM {label}"[:44], x, qs, do_int8)
        moments = jitter_source(x, work / "jitter.npz")
        for n in ns:
            ann_row("real vectors + NN-sized noise; real users", jittered(n, moments), qs, do_int8)
    else:
        for n in ns:
            x = clustered(n)
            ann_row("synthetic clustered (1,000 clusters)", x, queries_like(x, 200), do_int8)
    return moments


# ---- explore at 1M items (child process, for its RSS) ----------------------------------------------

EXPLORE = r"""
import json, sys, time, resource
import numpy as np
sys.path.insert(0, sys.argv[2])
from benchmarks.scale import clustered, jittered
from engine.data.dataset import load_dataset
from engine.explore.live_list import UserRecommendations, prepare_run
from engine.retrieval.index import IndexParams, exact_search, index_info, recall
from engine.runs.indexing import build_run_index
from engine.models.lstm.model import LSTMRecommender
from engine.models.lstm.numpy_tower import NumpyUserTower
from engine.runs.loaded import load_run, run_from_parts, run_path
from engine.runs.saving import save_and_register
from engine.runs.lean import open_explore_run
from engine.store import open_store
from engine.store import repository as repo
store = open_store(sys.argv[1]); with_index = sys.argv[3] == "index"
moments = sys.argv[4] or None; reuse = sys.argv[5] == "reuse"; out = {}
def rss(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
ds = load_dataset(store, "scale-explore")
with store.session() as s:
    old = [r for r in repo.list_runs(s, ds.info.id) if r.device_name == "synthetic-ema"] if reuse else []
if old:
    run_id = old[-1].id; out["reused_run"] = True
else:
    rng = np.random.default_rng(0); d, h = 128, 256; f = np.float32
    m = LSTMRecommender(embedding_dim=d, user_units=h, max_len=20); m.rating_range = (1.0, 5.0)
    m.item_matrix = jittered(ds.n_items, moments) if moments else clustered(ds.n_items, d)
    # a user tower whose vector is a decaying average of the user's recent item vectors (near-linear LSTM:
    # small candidate weights = identity, forget gate ~0.88, no recurrence; Dense = identity): queries lie
    # among the items as a trained tower's do. Random weights put them off the items' clusters, where IVF
    # needs half its lists for recall 0.98 (measured: nprobe 2048 of 4000, p50 9-15 ms).
    kernel = np.zeros((d + 2, 4 * h), f); kernel[:d, 2 * h:2 * h + d] = 0.1 * np.eye(d, dtype=f)
    bias = np.zeros(4 * h, f); bias[h:2 * h] = 2.0
    dense = np.zeros((h, d), f); dense[:d] = np.eye(d, dtype=f)
    m.user_tower = NumpyUserTower(kernel, np.zeros((h, 4 * h), f), bias, dense, np.zeros(d, f))
    run_id = save_and_register(store, dataset=ds, model=m, objective="softmax", config={}, holdout=False,
                               device="cpu", device_name="synthetic-ema", seconds=0.0, metrics={}, epochs=[])
    del m
del ds
out["run_id"] = run_id
out["rss_before_load"] = rss()
if with_index:
    with store.session() as s:
        have = index_info(run_path(store, repo.get_run(s, run_id)))
    if have is not None and have["kind"] == IndexParams().kind:
        out["index_s"] = None                      # reused: built by an earlier run of this section
    else:
        t = time.perf_counter(); build_run_index(store, run_id, force=True); out["index_s"] = time.perf_counter() - t
t = time.perf_counter(); run = prepare_run(load_run(store, run_id)); out["load_s"] = time.perf_counter() - t
users = np.random.default_rng(1).integers(0, run.dataset.n_users, 200)
hs = [run.history(int(u)) for u in users]
q = run.model.query_vectors([x[0] for x in hs], [x[1] for x in hs])
ex, _ = exact_search(run.model.item_vectors(), q, 100)
if with_index:
    ids, _ = run.index.search(q, 100)
    lat = []
    for row in q[:100]:
        t = time.perf_counter(); run.index.search(row[None], 100); lat.append(time.perf_counter() - t)
    out["ann"] = dict(recall100=recall(ids, ex), ann_ms=1000 * float(np.median(lat)), nlist=run.index.params.nlist,
                      nprobe=run.index.params.nprobe, kind=run.index.params.kind,
                      tuning=run.index.tuning.get("recall_by_nprobe"))
runs, lists = {"index": run, "exact": run}, {}
if with_index:      # the app's way: the item vectors stay in model.npz, rows read per pick (engine.retrieval.vector_rows)
    t = time.perf_counter()
    runs["on demand"] = prepare_run(run_from_parts(run.info, run.dataset, run.directory, rows_on_demand=True))
    out["load_disk_s"] = time.perf_counter() - t
    # the app's whole way: a lean run (users + catalogue only, each pick reads its user, counts streamed
    # once or read back) with its item vectors on demand
    t = time.perf_counter()
    runs["lean"] = prepare_run(open_explore_run(store, run_id, rows_on_demand=True))
    out["lean_load_s"] = time.perf_counter() - t
for mode in (("index", "on demand", "lean", "exact") if with_index else ("exact",)):
    run = runs[mode]
    run.use_index = mode != "exact"
    vecs = run.model.item_vectors()
    picks, cpu, parts, slides, reads = [], [], {"open": [], "candidates": [], "first list": []}, [], []
    for u in users[:21]:
        t, c, r0 = time.perf_counter(), time.thread_time(), getattr(vecs, "rows_read", 0)
        live = UserRecommendations(run, int(u), store); t1 = time.perf_counter()
        live.candidates(); t2 = time.perf_counter()
        shown = live.rerank(0.0); t3 = time.perf_counter()
        lists.setdefault(mode, []).append([(r.item, r.score) for r in shown.rows])
        picks.append(t3 - t); cpu.append(time.thread_time() - c); reads.append(getattr(vecs, "rows_read", 0) - r0)
        for k, v in zip(parts, (t1 - t, t2 - t1, t3 - t2)):
            parts[k].append(v)
        for tr in (0.2, 0.5, 0.8):
            t = time.perf_counter(); live.rerank(tr, "mmr"); slides.append(time.perf_counter() - t)
    out[mode] = dict(pick_ms=1000 * float(np.median(picks[1:])), pick_cpu_ms=1000 * float(np.median(cpu[1:])),
                     parts={k: 1000 * float(np.median(v[1:])) for k, v in parts.items()},
                     slide_ms=1000 * float(np.median(slides)), first_pick_ms=1000 * picks[0],
                     rows_read=float(np.median(reads[1:])))
    dis = []                         # a dislike: its 20 neighbours are found over the whole catalogue
    for u in users[21:31]:
        live = UserRecommendations(run, int(u))          # no store: the feedback stays in memory
        item = live.rerank(0.0).rows[0].item
        t = time.perf_counter(); live.dislike(item); live.rerank(0.0); dis.append(time.perf_counter() - t)
    out[mode]["dislike_ms"] = 1000 * float(np.median(dis))
if with_index:
    out["same_lists"] = sum(a == b for a, b in zip(lists["index"], lists["on demand"]))
    out["lean_same_lists"] = sum(a == b for a, b in zip(lists["index"], lists["lean"]))
out.update(rss_mib=rss(), n_items=run.dataset.n_items, n_users=run.dataset.n_users)
print(json.dumps(out))
"""


def section_explore(items: int, interactions: int, work: Path, moments: str | None, with_index: bool = True,
                    reuse: bool = False) -> int:
    """Returns the run's id (for the app section)."""
    users = max(1000, interactions // 40)
    print(f"\n== explore a {items:,}-item catalogue ({users:,} users, {interactions:,} interactions) ==")
    db = work / "explore.db"
    if reuse and db.exists():
        print(f"reusing {db} (--reuse: data, run and index of an earlier run of this section)")
    else:
        for f in work.glob(db.name + "*"):
            if f.is_dir():
                import shutil
                shutil.rmtree(f)
            else:
                f.unlink()
        wall, _, rss, _ = child([sys.executable, "-m", "engine.cli.main", "--db", str(db), "demo", "--users", str(users),
                                 "--items", str(items), "--interactions", str(interactions), "--name",
                                 "scale-explore", "--json"])
        print(f"demo data written in {wall:.1f} s (peak RSS {rss:.0f} MiB)")
    what = "the real run's item vectors + NN-sized noise" if moments else "synthetic clustered vectors"
    print(f"two-tower run: {what}, a user tower that averages the user's recent item vectors (d=128, LSTM 256); "
          "index by build_run_index")
    _, _, rss_c, out = child([sys.executable, "-c", EXPLORE, str(db), str(ROOT), "index" if with_index else "exact",
                              moments or "", "reuse" if reuse else "fresh"])
    r = json.loads(out)
    built = "reused" if r.get("index_s", 0) is None else f"{r.get('index_s', float('nan')):.1f} s"
    print(f"run {r['run_id']}; index build {built}; run load (with its index and per-run caches, as the app "
          f"loads it: prepare_run) {r['load_s']:.1f} s")
    if with_index:
        e = r["ann"]
        print(f"{e['kind']} nlist {e['nlist']}, nprobe {e['nprobe']} (tuned at build: {e['tuning']}): recall@100 vs "
              f"exact {e['recall100']:.4f} (target >= 0.98); ANN p50 {e['ann_ms']:.2f} ms (target <= 5); 200 users")
    modes = ("index", "on demand", "lean", "exact") if with_index else ("exact",)
    print(f"{'':>30}" + "".join(f"{m + (' (ref)' if m == 'exact' and with_index else ''):>14}" for m in modes))
    rows = [("pick -> list p50 ms", "pick_ms", ".1f"), ("  CPU ms of the pick, p50", "pick_cpu_ms", ".1f"),
            ("  of which: open user", ("parts", "open"), ".1f"), ("  candidates", ("parts", "candidates"), ".1f"),
            ("  first list", ("parts", "first list"), ".1f"), ("first pick (cold) ms", "first_pick_ms", ".1f"),
            ("slider re-rank p50 ms", "slide_ms", ".2f"), ("item rows read per pick, p50", "rows_read", ".0f"),
            ("dislike -> list p50 ms", "dislike_ms", ".1f")]
    for label, key, fmt in rows:
        vals = [r[m][key[0]][key[1]] if isinstance(key, tuple) else r[m][key] for m in modes]
        note = "   (target < 200)" if key == "pick_ms" else ""
        print(f"{label:>30}" + "".join(f"{v:>14{fmt}}" for v in vals) + note)
    if with_index:
        print(f"'on demand': the same run loaded as the app loads it (item vectors left in model.npz, rows read with "
              f"pread per pick; {r['load_disk_s']:.1f} s); the other columns hold them in memory (0 rows read). "
              f"Lists (items and scores) identical to the in-memory index column: {r['same_lists']} of 21 users")
        print(f"'lean': the app's run (users + catalogue, one user read per pick; counts streamed, or read back; "
              f"item vectors on demand), opened in {r['lean_load_s']:.1f} s; lists identical to the index "
              f"column's: {r['lean_same_lists']} of 21 users")
    print(f"peak RSS of the engine process: {rss_c:.0f} MiB (holds both loads; the app section measures the app)")
    return int(r["run_id"])


# ---- the app's memory with the 1M-item dataset open ----------------------------------------------

def _tree(pid: int) -> list[int]:
    """pid and all its descendants (from /proc/PID/task/*/children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                todo += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                pass
    return out


def _status(pid: int) -> dict:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return {}
    d = {k: v.strip() for k, v in (line.split(":", 1) for line in lines if ":" in line)}
    return {"hwm": int(d.get("VmHWM", "0 kB").split()[0]) / 1024, "rss": int(d.get("VmRSS", "0 kB").split()[0]) / 1024,
            "cmd": cmd}


def section_app(work: Path, run_id: int, timeout_s: float = 1200.0) -> None:
    """The real app (`llmrec-gui`, offscreen) on the explore section's database, its run and a user
    explored: peak RSS (VmHWM) of the app's process and of each process it started (the store
    process), polled from /proc until the app has drawn the list and quit."""
    print(f"\n== the app's memory with the explore section's dataset and run {run_id} open, a user explored ==")
    db = work / "explore.db"
    shot = work / "app-explore.png"
    argv = [sys.executable, "-m", "llmrec_gui", "--db", str(db), "--run", str(run_id), "--view", "explore",
            "--screenshot", str(shot), "--settings", str(work / "app.ini"), "--no-demo"]
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    peaks: dict[int, dict] = {}
    while p.poll() is None and time.perf_counter() - t0 < timeout_s:
        for pid in _tree(p.pid):
            st = _status(pid)
            if st:
                before = peaks.get(pid, {})
                peaks[pid] = {**st, "hwm": max(st["hwm"], before.get("hwm", 0.0)),
                              "cmd": before.get("cmd") or st["cmd"]}      # a process exiting reads as ''

        time.sleep(0.2)
    if p.poll() is None:
        p.kill()
    log = p.communicate()[0]
    wall = time.perf_counter() - t0
    record = json.loads(Path(str(shot) + ".json").read_text()) if Path(str(shot) + ".json").exists() else {}
    listed = len(record.get("items", []))
    print(f"app ran {wall:.1f} s until its screenshot ({'list on screen' if record.get('run') else 'NO list'}: "
          f"{shot.name}; {listed} rows recorded); exit code {p.returncode}")
    total = 0.0
    for pid, st in sorted(peaks.items()):
        role = ("app" if pid == p.pid else "store process" if "store_process" in st["cmd"] or "spawn_main" in st["cmd"]
                else "other")
        print(f"  pid {pid:>7} {role:<14} peak RSS (VmHWM) {st['hwm']:>7.0f} MiB   {st['cmd'][:90]}")
        total += st["hwm"]
    print(f"sum of peaks: {total:,.0f} MiB (target < 2,048 MiB)")
    if p.returncode:
        print(log[-2000:])


# ---- training that streams (child processes, for their RSS) -------------------------------------

TRAIN_ITEMS = 62_000      # MovieLens-25M's catalogue, the same at every size: only interactions grow

EXPORT = r"""
import json, sys, time
sys.path.insert(0, sys.argv[2])
from engine.data.dataset import load_dataset
from engine.models.lstm.examples import training_arrays
from engine.store import open_store
store = open_store(sys.argv[1]); ds = load_dataset(store, sys.argv[3])
t = time.perf_counter(); a = training_arrays(ds, sys.argv[4]); s = time.perf_counter() - t
print(json.dumps({"folder": str(a.folder), "examples": len(a), "ids": int(a.id_index.max()), "s": s,
                  "n": ds.n_interactions}))
"""

TRAIN = r"""
import json, sys, time
sys.path.insert(0, sys.argv[2])
import numpy as np
from engine.errors import CancelledError
from engine.jobs.cancel import CancelToken
from engine.models.lstm.examples import TrainingArrays, compute_examples
from engine.models.lstm.model import LSTMConfig
from engine.models.lstm.trainer import train_towers
mode, skip, batches = sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
if mode == "memory":           # the reference: the same examples held in memory (no files)
    from engine.data.dataset import load_dataset
    from engine.store import open_store
    a = compute_examples(load_dataset(open_store(sys.argv[1]), sys.argv[6]))
else:
    a = TrainingArrays.open(sys.argv[1])
def anon_kib():
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon:"):
            return int(line.split()[1])
rng = np.random.default_rng(0)     # stand-ins for the cached MiniLM vectors: same shape, same cost per batch
tokens = rng.normal(size=(a.n_items + 1, 384)).astype(np.float32)
tokens /= np.linalg.norm(tokens, axis=1, keepdims=True); tokens[0] = 0
cfg = LSTMConfig(epochs=1000, patience=0, refit=False, report_every=10)   # stopped after the batches measured
cancel, marks, peak = CancelToken(), {}, [0]
def progress(u):
    if getattr(u, "batch", None):
        step = (u.epoch - 1) * -(-len(a) // cfg.batch_size) + u.batch      # batches since the start
        marks[step] = (time.perf_counter(), time.process_time()); peak[0] = max(peak[0], anon_kib())
        if step >= skip + batches:
            cancel.cancel()
try:
    train_towers(cfg, None, tokens, epochs=cfg.epochs, validation=None, progress=progress, cancel=cancel,
                 device="/CPU:0", arrays=a)
except CancelledError:
    pass
b0, b1 = skip, max(marks)
print(json.dumps({"rate": (b1 - b0) * cfg.batch_size / (marks[b1][0] - marks[b0][0]), "batches": b1 - b0,
                  "cpu_rate": (b1 - b0) * cfg.batch_size / (marks[b1][1] - marks[b0][1]),
                  "peak_anon_mib": peak[0] / 1024, "examples": len(a)}))
"""


def section_train(ks: list[int], work: Path, batches: int) -> None:
    """examples/s over a fixed number of batches (after a warm-up) and peak memory, at each size."""
    print(f"\n== LSTM training from the exported, memory-mapped examples (default settings: d 128, user LSTM 256, "
          f"batch 512, L 20; {TRAIN_ITEMS:,} items at every size; {batches} batches after 20 of warm-up) ==")
    print(f"{'K':>11} {'users':>8} {'examples':>11} {'id rows':>8} | {'export s':>8} {'RSS MiB':>7} | "
          f"{'examples/s':>10} {'x ref':>6} {'ex/CPU-s':>8} {'x ref':>6} | {'peak RSS':>8} {'anon MiB':>8}")
    ref = None
    for k in ks:
        users = max(100, k * 162_500 // 25_000_000)
        name = f"train-{k}"
        db = work / f"{name}.db"
        if not db.exists():
            child([sys.executable, "-m", "engine.cli.main", "--db", str(db), "--artifacts", str(work / "art"), "demo",
                   "--users", str(users), "--items", str(TRAIN_ITEMS), "--interactions", str(k), "--name", name,
                   "--json"])
        cache = work / "examples" / name
        _, _, ex_rss, out = child([sys.executable, "-c", EXPORT, str(db), str(ROOT), name, str(cache)])
        e = json.loads(out)
        if ref is None:           # the reference: the same training loop on the examples held in memory
            _, _, m_rss, out = child([sys.executable, "-c", TRAIN, str(db), str(ROOT), "memory", "20", str(batches),
                                      name])
            ref = json.loads(out)
            print(f"{'ref: ' + f'{k:,}':>11} {users:>8,} {ref['examples']:>11,} {e['ids']:>8,} | {'':>8} {'':>7} | "
                  f"{ref['rate']:>10,.0f} {1.0:>6.2f} {ref['cpu_rate']:>8,.0f} {1.0:>6.2f} | {m_rss:>8.0f} "
                  f"{ref['peak_anon_mib']:>8.0f}   (in memory)")
        _, _, rss, out = child([sys.executable, "-c", TRAIN, e["folder"], str(ROOT), "mmap", "20", str(batches)])
        r = json.loads(out)
        print(f"{k:>11,} {users:>8,} {r['examples']:>11,} {e['ids']:>8,} | {e['s']:>8.1f} {ex_rss:>7.0f} | "
              f"{r['rate']:>10,.0f} {r['rate'] / ref['rate']:>6.2f} {r['cpu_rate']:>8,.0f} "
              f"{r['cpu_rate'] / ref['cpu_rate']:>6.2f} | {rss:>8.0f} {r['peak_anon_mib']:>8.0f}")
    print("(export: load the dataset, build and write the example files once; a re-run reuses them (then the "
          "column is the time to fingerprint the data and open the files). ex/CPU-s: examples per CPU second of "
          "the process, less sensitive to a shared machine's load than examples/s. peak RSS "
          "counts the memory-mapped pages the batches touched, which the kernel can drop; anon: the process's "
          "own memory, sampled every 10 batches; target: examples/s at 25M within 20 % of 100k, memory flat)")


# ---- user picker ---------------------------------------------------------------------------------

def section_picker(n: int) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSortFilterProxyModel, Qt
    from PySide6.QtGui import QStandardItem, QStandardItemModel
    from PySide6.QtWidgets import QApplication

    from llmrec_gui.widgets.user_list_model import UserListModel
    _app = QApplication.instance() or QApplication([])
    print(f"\n== user picker: {n:,} users, search per keystroke (CPU seconds of the GUI thread) ==")
    ids = np.array([f"u{u:07d}" for u in range(n)], dtype=object)
    counts = np.arange(n) % 97
    keys = ["u", "u0", "u00", "u004", "u0042", "u00424", "nobody"]
    t = time.thread_time()
    model = UserListModel()
    model.set_users(ids, counts)
    model.set_filter("u")
    setup = time.thread_time() - t
    lazy = []
    for k in keys[1:]:
        t = time.thread_time()
        model.set_filter(k)
        [model.data(model.index(r, 0)) for r in range(min(30, model.rowCount()))]
        lazy.append(time.thread_time() - t)
    t = time.thread_time()
    old = QStandardItemModel()
    for u in range(n):
        it = QStandardItem(f"{ids[u]}  ({counts[u]} interactions)")
        it.setData(u, Qt.ItemDataRole.UserRole)
        old.appendRow(it)
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(old)
    old_setup = time.thread_time() - t
    before = []
    for k in keys[1:]:
        t = time.thread_time()
        proxy.setFilterFixedString(k)
        before.append(time.thread_time() - t)
    print(f"{'':>26} {'lazy model':>12} {'QStandardItemModel+proxy (ref)':>32}")
    print(f"{'set users + first search s':>26} {setup:>12.2f} {old_setup:>32.2f}")
    print(f"{'keystroke CPU ms, median':>26} {1000 * np.median(lazy):>12.2f} {1000 * np.median(before):>32.1f}   (target < 50)")
    print(f"{'keystroke CPU ms, max':>26} {1000 * max(lazy):>12.2f} {1000 * max(before):>32.1f}")


# ---- real data: int8 vs float32 ------------------------------------------------------------------

def section_real(db: str) -> None:
    from engine.runs.loaded import load_run
    from engine.runs.quantize import quantize_run
    from engine.store import open_store
    from engine.store import repository as repo
    print(f"\n== int8 item vectors vs float32 on trained LSTM runs ({db}); target <= 0.5 % relative NDCG@10 loss ==")
    store = open_store(db)
    try:
        with store.session() as s:
            runs = repo.list_runs(s)
        done = {r.config.get("quantized_from"): r for r in runs if r.config.get("item_vectors") == "int8"}
        print(f"{'dataset':<22} {'run':>4} {'NDCG@10 f32':>11} {'NDCG@10 int8':>12} {'rel. change':>11} "
              f"{'MiB f32':>8} {'MiB int8':>8} {'smaller':>7}")
        for r in runs:
            if r.model != "lstm" or r.config.get("item_vectors") == "int8" or r.metrics.get("ndcg@10") is None:
                continue
            q = done.get(r.id)
            if q is None:
                with store.session() as s:
                    q = repo.get_run(s, quantize_run(store, r.id))
            f32 = load_run(store, r.id).model.item_vectors()
            i8 = load_run(store, q.id).model.item_vectors()
            a, b = r.metrics["ndcg@10"], q.metrics["ndcg@10"]
            print(f"{r.dataset_name:<22} {r.id:>4} {a:>11.4f} {b:>12.4f} {100 * (b - a) / a:>10.2f}% "
                  f"{f32.nbytes / 2**20:>8.2f} {i8.nbytes / 2**20:>8.2f} {f32.nbytes / i8.nbytes:>6.2f}x")
    finally:
        store.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--interactions", default="100000,1000000")
    ap.add_argument("--ann-items", default="100000")
    ap.add_argument("--explore-items", type=int, default=1_000_000)
    ap.add_argument("--explore-interactions", type=int, default=1_000_000)
    ap.add_argument("--picker-users", type=int, default=1_000_000)
    ap.add_argument("--explore-no-index", action="store_true",
                    help="explore section with exact scoring only (skips the index build)")
    ap.add_argument("--jitter-source", help="jitter.npz from an earlier run's ann section (real vectors + noise scale)")
    ap.add_argument("--train-interactions", default="100000,1000000,25000000")
    ap.add_argument("--train-batches", type=int, default=200)
    ap.add_argument("--reuse", action="store_true",
                    help="explore/app: reuse the database, run and index in --work from an earlier run")
    ap.add_argument("--app-fresh-counts", action="store_true",
                    help="app: remove the interaction counts cache first (measures the first open of the dataset)")
    ap.add_argument("--sections", default="demo,ann,int8,explore,app,picker,real,train")
    ap.add_argument("--real-db", help="database with trained LSTM runs (holdout) for the int8 comparison")
    ap.add_argument("--work", help="folder for the databases (default: a temporary folder)")
    args = ap.parse_args()
    sections = set(args.sections.split(","))
    moments = None
    work = Path(args.work or tempfile.mkdtemp(prefix="llmrec-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"llmrec scale benchmark, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    if "demo" in sections:
        section_demo([int(k) for k in args.interactions.split(",")], work)
    if "ann" in sections or "int8" in sections:
        moments = section_ann([int(n) for n in args.ann_items.split(",")], "int8" in sections, args.real_db, work)
    run_id = None
    if "explore" in sections or "app" in sections:
        run_id = section_explore(args.explore_items, args.explore_interactions, work, moments or args.jitter_source,
                                 not args.explore_no_index, args.reuse)
    if "app" in sections and run_id is not None:
        if args.app_fresh_counts:       # the app's first open of the dataset then streams its counts itself
            import shutil
            shutil.rmtree(work / "explore.db.files" / "counts", ignore_errors=True)
            print("(--app-fresh-counts: the counts cache removed; the app streams the counts itself)")
        section_app(work, run_id)
    if "train" in sections:
        section_train([int(k) for k in args.train_interactions.split(",")], work, args.train_batches)
    if "picker" in sections:
        section_picker(args.picker_users)
    if "real" in sections and args.real_db:
        section_real(args.real_db)
    if not args.work:
        import shutil
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
