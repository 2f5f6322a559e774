"""CPU s of each step of the app's explore open in one process (explore_parts, the pickle round trip the
store process and the app do, run_from_explore_parts, prepare_run) on run 1 of DB. argv: DB [PROFILE_OUT]"""
import cProfile
import pickle
import pstats
import sys
import time

import engine
from engine.explore.live_list import prepare_run
from engine.retrieval.index import index_serves
from engine.runs.lean import explore_parts, run_from_explore_parts
from engine.store import open_store

print(engine.__file__)   # which tree ran
store = open_store(sys.argv[1])
prof = cProfile.Profile() if len(sys.argv) > 2 else None
def step(name, f, *a, **k):
    t = time.process_time(); w = time.perf_counter()
    if prof: prof.enable()
    r = f(*a, **k)
    if prof: prof.disable()
    print(f"{name}: cpu {time.process_time()-t:.1f} s wall {time.perf_counter()-w:.1f} s", flush=True)
    return r
T = time.process_time()
info, ds, path, counts = step("explore_parts", explore_parts, store, 1)
blob = step("pickle", pickle.dumps, (info, ds, path, counts), protocol=pickle.HIGHEST_PROTOCOL)
print("pickle bytes", len(blob))
info, ds, path, counts = step("unpickle", pickle.loads, blob)
del blob
run = step("run_from_explore_parts", run_from_explore_parts, info, ds, path, counts, store, rows_on_demand=index_serves(path))
step("prepare_run", prepare_run, run)
print(f"total: cpu {time.process_time()-T:.1f} s", flush=True)
for l in open("/proc/self/status"):
    if l.startswith("VmHWM"): print(l.strip())
if prof:
    prof.dump_stats(sys.argv[2])
    pstats.Stats(sys.argv[2]).sort_stats("tottime").print_stats(25)
