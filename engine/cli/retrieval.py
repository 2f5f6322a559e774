"""`llmrec index`, `llmrec quantize`, `llmrec fold-in`: large catalogues and incremental updates."""
from __future__ import annotations

import sys
import time

from engine.cli.main import add_common, at_least, emit_json, number, record_id
from engine.cli.models import TextProgress
from engine.retrieval.index import IndexParams, index_info
from engine.runs.foldin import fold_in_items
from engine.runs.indexing import build_run_index
from engine.runs.quantize import quantize_run
from engine.store import repository as repo


def register(sub) -> None:
    p = sub.add_parser("index", help="build the ANN (faiss IVF) candidate index of a run's item vectors",
                       description="Index a run's item vectors for approximate nearest-neighbour candidate "
                                   "retrieval; recommend/explore and the app then use it. Below 50,000 items "
                                   "exact search is used and no index is built unless --force.")
    p.add_argument("--run", type=record_id("run"), required=True, help="the run's id (llmrec runs lists them)")
    p.add_argument("--force", action="store_true", help="build even for a small catalogue")
    p.add_argument("--kind", choices=("ivf-sq8", "ivf", "hnsw"), default="ivf-sq8",
                   help="ivf-sq8 (default: IVF over 8-bit codes, short list re-ranked exactly), ivf (IVF-Flat) or hnsw")
    p.add_argument("--refine", type=at_least(1), default=2,
                   help="ivf-sq8: re-rank refine x k codes exactly against the item vectors (default 2)")
    p.add_argument("--nlist", type=at_least(0), default=0, help="IVF lists (default about 4 sqrt(items))")
    p.add_argument("--nprobe", type=at_least(0), default=0,
                   help="IVF lists scanned per query (default: tuned at build time to reach --target-recall)")
    p.add_argument("--target-recall", type=number(highest=1.0, above=0.0), default=0.98,
                   help="recall@100 against exact search on 200 users that the nprobe tuning must reach")
    p.add_argument("--m", type=at_least(2), default=32, help="HNSW graph degree (default 32)")
    p.add_argument("--ef-construction", type=at_least(1), default=80, help="HNSW build beam (default 80)")
    p.add_argument("--ef-search", type=at_least(1), default=256, help="HNSW query beam (default 256)")
    add_common(p)
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("fold-in", help="a new run: RUN plus vectors for the items added since (from their text)",
                       description="Items appended to the dataset after RUN was trained (llmrec import --append) "
                                   "get vectors from their text through the run's item tower; the run's ANN "
                                   "index, if any, is extended in place. New users need no fold-in: the user "
                                   "tower reads their history.")
    p.add_argument("--run", type=record_id("run"), required=True, help="the run's id (llmrec runs lists them)")
    add_common(p)
    p.set_defaults(func=cmd_fold_in)

    p = sub.add_parser("quantize", help="a new run with int8 item vectors (per-vector scale), evaluated beside the original")
    p.add_argument("--run", type=record_id("run"), required=True, help="the run's id (llmrec runs lists them)")
    add_common(p)
    p.set_defaults(func=cmd_quantize)


def cmd_index(args, store) -> int:


    start = time.perf_counter()
    show = not args.json and sys.stderr.isatty()
    path = build_run_index(store, args.run, force=args.force,
                           params=IndexParams(kind=args.kind, nlist=args.nlist, nprobe=args.nprobe,
                                              target_recall=args.target_recall, refine=args.refine, m=args.m,
                                              ef_construction=args.ef_construction, ef_search=args.ef_search),
                           progress=TextProgress() if show else None)
    seconds = time.perf_counter() - start
    info = index_info(path.parent)
    if args.json:
        emit_json({"run_id": args.run, "index": str(path), "seconds": round(seconds, 2), **info})
    else:
        print(f"run {args.run}: index written to {path} in {seconds:.1f} s ({info['summary']})")
    return 0


def cmd_quantize(args, store) -> int:
    new_id = quantize_run(store, args.run, progress=None if args.json else TextProgress())
    with store.session() as s:
        old, new = repo.get_run(s, args.run), repo.get_run(s, new_id)
    if args.json:
        emit_json({"run_id": new_id, "quantized_from": args.run, "metrics": new.metrics,
                   "ndcg@10": new.metrics.get("ndcg@10"), "float32_ndcg@10": old.metrics.get("ndcg@10")})
        return 0
    a, b = old.metrics.get("ndcg@10"), new.metrics.get("ndcg@10")
    tail = f": NDCG@10 {b:.4f} (float32 run {args.run}: {a:.4f})" if a is not None and b is not None else ""
    print(f"run {new_id}: run {args.run} with int8 item vectors{tail}")
    return 0


def cmd_fold_in(args, store) -> int:

    start = time.perf_counter()
    new_id = fold_in_items(store, args.run, progress=None if args.json else TextProgress())
    with store.session() as s:
        info = repo.get_run(s, new_id)
    seconds = time.perf_counter() - start
    if args.json:
        emit_json({"run_id": new_id, "folded_from": args.run, "folded_items": info.config["folded_items"],
                   "seconds": round(seconds, 2), "ndcg@10": info.metrics.get("ndcg@10")})
    else:
        print(f"run {new_id}: run {args.run} plus {info.config['folded_items']:,} new items from their text "
              f"in {seconds:.1f} s")
    return 0
