"""CPU time and peak RSS of the counts a training keeps as a by-product (aggregates.keep_loaded_counts)
on the largest dataset of a store, beside time_split (the training's split phase, which follows it) and,
with a third argument, the streamed dataset_counts of the same run (then compares the two files).
Writes under ARTIFACTS: point it at a COPY of a database and a fresh folder.
Usage: python benchmarks/counts_byproduct.py DB ARTIFACTS [stream]"""
import sys
import time

import numpy as np

from engine.data import aggregates
from engine.data.dataset import load_dataset
from engine.data.split import time_split
from engine.store import open_store


def hwm():
    for line in open("/proc/self/status"):
        if line.startswith(("VmHWM", "VmRSS")):
            print("   ", line.strip(), flush=True)


store = open_store(sys.argv[1], artifacts=sys.argv[2])
from engine.store import repository as repo

with store.session() as s:
    infos = repo.list_datasets(s)
info = max(infos, key=lambda i: i.n_interactions)
print(info.name, info.n_users, info.n_items, info.n_interactions, info.positive_threshold, flush=True)
t = time.process_time(); w = time.perf_counter()
ds = load_dataset(store, info.id, with_text=False)
print(f"load: cpu {time.process_time()-t:.1f} s wall {time.perf_counter()-w:.1f} s", flush=True); hwm()
t = time.process_time(); w = time.perf_counter()
ok = aggregates.keep_loaded_counts(store, ds)
print(f"keep_loaded_counts (written={ok}): cpu {time.process_time()-t:.1f} s wall {time.perf_counter()-w:.1f} s", flush=True); hwm()
t = time.process_time(); w = time.perf_counter()
sp = time_split(ds)
print(f"time_split (reference, the training's split): cpu {time.process_time()-t:.1f} s wall {time.perf_counter()-w:.1f} s", flush=True); hwm()
f = aggregates.counts_path(store, info.id, ds.positive_threshold)
with np.load(f) as z: a = {k: z[k] for k in z.files}
del sp, ds
f.unlink()
if len(sys.argv) > 3:
    t = time.process_time(); w = time.perf_counter()
    aggregates.dataset_counts(store, info.id, info.positive_threshold)
    print(f"dataset_counts streamed (reference): cpu {time.process_time()-t:.1f} s wall {time.perf_counter()-w:.1f} s", flush=True)
    with np.load(f) as z: b = {k: z[k] for k in z.files}
    print("identical fields:", sorted(a) == sorted(b) and all(np.array_equal(a[k], b[k]) for k in a), flush=True)
