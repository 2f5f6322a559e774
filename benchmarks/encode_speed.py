"""How fast the pretrained encoder (all-MiniLM-L6-v2) embeds a catalogue, and how fast a search is.

Encodes the first N MovieTweetings item texts ("Title (Year) | Genre Genre") with each backend and
batch size, each in its own child process so its peak memory (max RSS) is its own; prints items/s and
the ratio to the numpy backend measured in the same run. Then embeds all 10,506 MovieTweetings items
once (Keras) and times free-text searches (query encoding by numpy + ranking + title matching).
Backend "static" is the large-catalogue fallback (minilm-static: averaged token embeddings, numpy).

    nice -n 10 .venv/bin/python benchmarks/encode_speed.py [--n 1000] [--batch-sizes 16,64] [--queries 30]
        [--backends numpy,keras,static]
    nice -n 10 .venv/bin/python benchmarks/encode_speed.py --xwines [--backend keras] [--batch 64] [--rounds 2]

``--xwines``: imports the X-Wines slim archive (1,007 wines) into a temporary database with the engine's
importer, encodes its item texts with ``encode_catalogue`` twice in the same process (the old pass:
texts sorted by characters and tokenised per batch; the new one: tokenised once, batched by token
count), and prints seconds and items/s of each, their ratio and the minimum cosine between them.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

QUERIES = ["animated film for children", "space adventure with robots", "a scary haunted house",
           "romantic comedy in Paris", "world war two drama", "Inception", "The Godfather", "documentary about music",
           "superhero action", "a heist with a twist", "Toy Story", "sad movie about a dog", "teen comedy at school",
           "western gunslinger", "zombie apocalypse"]


def texts(n: int | None = None) -> list[str]:
    from baselines_movietweetings import DEFAULT_DIR, load_movietweetings
    ds = load_movietweetings(DEFAULT_DIR)
    n = ds.n_items if n is None else min(n, ds.n_items)
    return [ds.item_text(i) for i in range(n)]


def child(backend: str, batch: int, n: int) -> None:
    from engine.encoder.model import SentenceEncoder
    from engine.encoder.static import StaticEncoder
    items = texts(n)
    enc = StaticEncoder() if backend == "static" else SentenceEncoder(backend=backend)
    enc.encode(items[:batch], batch)                      # warm-up: graph tracing, page faults
    start, cpu = time.perf_counter(), time.process_time()
    enc.encode(items, batch)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"backend": backend, "batch": batch, "n": len(items), "seconds": wall, "cpu": cpu,
                      "items_per_s": len(items) / wall, "peak_rss_mb": rss}))


def search_latency(n_queries: int) -> None:
    from baselines_movietweetings import DEFAULT_DIR, load_movietweetings

    from engine.encoder import load_encoder
    from engine.language.search import search_items
    ds = load_movietweetings(DEFAULT_DIR)
    cache = Path.home() / ".cache" / "llmrec-bench" / "movietweetings-minilm.npy"
    if cache.exists():
        vectors = np.load(cache)
    else:
        start = time.perf_counter()
        vectors = load_encoder("keras").encode([ds.item_text(i) for i in range(ds.n_items)], 64)
        print(f"embedded all {ds.n_items} MovieTweetings items (keras, batch 64) in {time.perf_counter() - start:.0f} s")
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, vectors)
    enc = load_encoder("numpy")
    search_items(ds, "warm-up", 20, encoder=enc, vectors=vectors)
    qs = (QUERIES * (n_queries // len(QUERIES) + 1))[:n_queries]
    total, encode_only, cpu = [], [], []
    for q in qs:
        c = time.process_time()
        total.append(search_items(ds, q, 20, encoder=enc, vectors=vectors).seconds)
        cpu.append(time.process_time() - c)
        t = time.perf_counter()
        enc.encode([q])
        encode_only.append(time.perf_counter() - t)
    total, encode_only, cpu = np.array(total) * 1000, np.array(encode_only) * 1000, np.array(cpu) * 1000
    print(f"search over {ds.n_items} items, k=20, {len(qs)} queries: median {np.median(total):.1f} ms, "
          f"p90 {np.percentile(total, 90):.1f} ms wall (query encoding alone: median {np.median(encode_only):.1f} ms); "
          f"CPU time per search: median {np.median(cpu):.1f} ms (one BLAS thread: what a free core would take)")
    hits = search_items(ds, "animated film for children", 5, encoder=enc, vectors=vectors).hits
    print("  'animated film for children' ->", "; ".join(h.title for h in hits))


XWINES = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "x-wines-slim" / "XWines_Slim_1K_wines_150K_ratings.zip"


def old_encode(enc, texts, batch_size=32, *, progress=None, cancel=None):
    """The encoder's pass before issue 21: sorted by character count, each batch tokenised and padded."""
    from engine.encoder.model import DIM, EncodeProgress
    texts = list(texts)
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    order = np.argsort(np.array([len(t) for t in texts]), kind="stable")
    for start in range(0, len(texts), batch_size):
        rows = order[start:start + batch_size]
        ids, mask = enc.tokenize([texts[i] for i in rows])
        out[rows] = enc._forward(ids, mask)
        if progress is not None:
            progress(EncodeProgress(min(start + batch_size, len(texts)), len(texts)))
    return out


def xwines(backend: str, batch: int, rounds: int = 2, archive: Path = XWINES) -> None:
    import tempfile

    from engine.data.dataset import load_dataset
    from engine.encoder import load_encoder
    from engine.encoder.catalogue import cache_path, encode_catalogue, load_catalogue_vectors
    from engine.ingest.importer import import_files
    from engine.store import open_store
    print(f"CPU: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory(prefix="llmrec-encode-") as tmp:
        store = open_store(str(Path(tmp) / "bench.db"))
        try:
            imported = import_files(store, [archive.resolve()], name="x-wines-slim")
            ds = load_dataset(store, "x-wines-slim")
            print(f"imported {imported.n_items:,} wines, {imported.n_interactions:,} ratings in {imported.seconds:.1f} s")
            enc = load_encoder(backend)
            enc.encode([ds.item_text(0)], batch)                  # warm-up: weights, Keras layer
            tokens = [len(t) for t in enc._token_ids([ds.item_text(i) for i in range(ds.n_items)])]
            print(f"word pieces per text: median {np.median(tokens):.0f}, max {max(tokens)}, mean {np.mean(tokens):.1f}")
            rows: dict[str, tuple[float, float, int]] = {}
            vectors = {}
            for label in ("old", "new", "new", "old")[:2 * rounds]:   # a second round in reverse order
                cache_path(store, ds.info.id).unlink(missing_ok=True)
                new_encode = type(enc).encode
                if label == "old":
                    type(enc).encode = old_encode
                try:
                    cpu = time.process_time()
                    s = encode_catalogue(store, ds, backend=backend, batch_size=batch, encoder="minilm")
                finally:
                    type(enc).encode = new_encode
                took = (s.seconds, time.process_time() - cpu, s.encoded)
                rows[label] = min(rows.get(label, took), took)
                vectors[label] = load_catalogue_vectors(store, ds, s.encoder)
        finally:
            store.close()
    print(f"{'pass':5} {'items':>6} {'seconds':>8} {'cpu s':>7} {'items/s':>8}   (the faster of {rounds} round(s))")
    for label, (sec, cpu, n) in rows.items():
        print(f"{label:5} {n:>6} {sec:>8.1f} {cpu:>7.1f} {n / sec:>8.1f}")
    cos = np.sum(vectors["old"] * vectors["new"], axis=1)
    print(f"new/old speed: {rows['old'][0] / rows['new'][0]:.2f}x; minimum cosine new vs old {cos.min():.6f} "
          f"({backend}, batch {batch}); load average {os.getloadavg()[0]:.1f} at the end")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--batch-sizes", default="16,64")
    ap.add_argument("--backends", default="numpy,keras,static")
    ap.add_argument("--queries", type=int, default=30)
    ap.add_argument("--xwines", action="store_true", help="old vs new pass over the X-Wines catalogue")
    ap.add_argument("--backend", default="keras", help="--xwines: the encoder backend")
    ap.add_argument("--batch", type=int, default=64, help="--xwines: the batch size")
    ap.add_argument("--rounds", type=int, default=2, choices=(1, 2), help="--xwines: old+new, then new+old")
    ap.add_argument("--child", nargs=3, metavar=("BACKEND", "BATCH", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.xwines:
        return xwines(args.backend, args.batch, args.rounds)
    if args.child:
        return child(args.child[0], int(args.child[1]), int(args.child[2]))
    print(f"CPU: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    rows = []
    for backend in filter(None, args.backends.split(",")):     # --backends "" : search latency only
        for batch in map(int, args.batch_sizes.split(",")):
            out = subprocess.run([sys.executable, __file__, "--child", backend, str(batch), str(args.n)],
                                 capture_output=True, text=True, check=True)
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    if not rows:
        return search_latency(args.queries)
    ref = next((r["items_per_s"] for r in rows if r["backend"] == "numpy"), rows[0]["items_per_s"])
    print(f"{'backend':8} {'batch':>5} {'items':>6} {'seconds':>8} {'cpu s':>7} {'items/s':>8} {'vs numpy':>8} {'peak RSS':>9}")
    for r in rows:
        print(f"{r['backend']:8} {r['batch']:>5} {r['n']:>6} {r['seconds']:>8.1f} {r['cpu']:>7.1f} {r['items_per_s']:>8.1f} "
              f"{r['items_per_s'] / ref:>7.2f}x {r['peak_rss_mb']:>7.0f} MB")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    if args.queries:
        search_latency(args.queries)


if __name__ == "__main__":
    main()
