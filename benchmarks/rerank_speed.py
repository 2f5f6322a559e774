"""Re-ranking speed: engine.explore.rerank (MMR, fast greedy DPP) beside straightforward textbook versions
timed in the same run, for the issue's two budgets:

    N = 1,000 candidates, k = 20, d = 128   median <= 2 ms
    N = 10,000 candidates, k = 50, d = 128  median <= 16 ms

Textbook MMR recomputes every candidate's similarity to the whole selected set at each step
(O(N k^2 d)); textbook DPP evaluates log det(L_{S+i}) for every candidate at each step with a batched
slogdet (O(N k^4) overall). Both pick the same items as the fast versions (checked here).

    .venv/bin/python benchmarks/rerank_speed.py [--repeats 50] [--textbook-repeats 3]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from engine.explore.rerank import normalise_scores, rerank

CASES = ((1_000, 20, 128, 2.0), (10_000, 50, 128, 16.0))


def textbook_mmr(scores, v, k, t):
    s = normalise_scores(scores)
    picked = [int(np.argmax(s))]
    while len(picked) < k:
        rest = np.setdiff1d(np.arange(len(s)), picked)
        sim = (v[rest] @ v[picked].T).max(axis=1)
        picked.append(int(rest[np.argmax((1 - t) * s[rest] - t * sim)]))
    return picked


def textbook_dpp(scores, v, k, t):
    s = normalise_scores(scores)
    q = np.exp((1 - t) / (2 * t) * (s - 1.0))
    b = v * q[:, None]                                 # L = B B^T
    picked = [int(np.argmax(q))]
    while len(picked) < k:
        rest = np.setdiff1d(np.arange(len(s)), picked)
        sub = np.empty((len(rest), len(picked) + 1, len(picked) + 1))
        lp = b[picked] @ b[picked].T
        cross = b[rest] @ b[picked].T
        sub[:, :-1, :-1] = lp
        sub[:, -1, :-1] = cross
        sub[:, :-1, -1] = cross
        sub[:, -1, -1] = np.einsum("ij,ij->i", b[rest], b[rest])
        sign, logdet = np.linalg.slogdet(sub)
        logdet[sign <= 0] = -np.inf
        picked.append(int(rest[np.argmax(logdet)]))
    return picked


def median_ms(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--textbook-repeats", type=int, default=3)
    ap.add_argument("--tradeoff", type=float, default=0.5)
    args = ap.parse_args()
    print(f"cpus: {os.cpu_count()}, numpy {np.__version__}, trade-off {args.tradeoff}, float32 unit vectors")
    rng = np.random.default_rng(0)
    print(f"{'N':>6} {'k':>3} {'method':>6} {'fast ms':>9} {'budget':>7} {'textbook ms':>12} {'ratio':>8}  same picks")
    for n, k, d, budget in CASES:
        v = rng.normal(size=(n, d)).astype(np.float32)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        s = np.sort(rng.normal(size=n).astype(np.float32))[::-1].copy()
        t = args.tradeoff
        for method, book in (("mmr", textbook_mmr), ("dpp", textbook_dpp)):
            fast = median_ms(lambda: rerank(s, v, k, t, method), args.repeats)
            slow = median_ms(lambda: book(s, v, k, t), args.textbook_repeats)
            same = rerank(s, v, k, t, method).order.tolist() == book(s, v.astype(np.float64), k, t)
            ok = "ok" if fast <= budget else "OVER"
            print(f"{n:>6} {k:>3} {method:>6} {fast:>9.3f} {budget:>5.0f}{ok:>3} {slow:>12.1f} {slow / fast:>7.0f}x  {same}")


if __name__ == "__main__":
    main()
