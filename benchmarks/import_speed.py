"""Import speed and peak memory of `llmrec import` against SQLite's own CSV import, in the same run.

Generates MovieLens-like ratings CSVs (header userId,movieId,rating,timestamp; unique (user, item)
pairs, user-major) of 1M and 5M rows in a temporary folder, then for each size runs, as child processes:
  * `llmrec import FILE` (a fresh database each time; the figure includes interpreter start-up),
  * the `sqlite3` shell's `.import --csv` into a plain 4-column table, and into the equivalent table
    with PRIMARY KEY (userId, movieId), which is what llmrec's interactions table enforces.
Prints rows/s, same-run ratios and each child's own peak RSS (GNU time's %M where /usr/bin/time exists;
a forked child's rusage would include this process's peak, the generated file included). Peak memory
should not grow with the file: compare the 1M and 5M rows.

    python benchmarks/import_speed.py [--rows 1000000,5000000] [--keep DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
N_ITEMS = 26_729


def generate(path: Path, n_rows: int, seed: int = 7) -> None:
    """User-major ratings with unique (user, item) pairs; activity is long-tailed like MovieLens."""
    rng = np.random.default_rng(seed)
    written, user = 0, 1
    with open(path, "w") as f:
        f.write("userId,movieId,rating,timestamp\n")
        while written < n_rows:
            counts = np.minimum(rng.lognormal(3.5, 1.0, 2000).astype(int) + 5, 2000)
            lines = []
            for k in counts:
                k = int(min(k, n_rows - written))
                if k <= 0:
                    break
                items = (user * 7919 + np.arange(k) * 31) % N_ITEMS + 1
                ratings = rng.integers(1, 11, k) / 2
                ts = 1_000_000_000 + np.sort(rng.integers(0, 300_000_000, k))
                lines.append("\n".join(f"{user},{i},{r:g},{t}" for i, r, t in
                                       zip(items.tolist(), ratings.tolist(), ts.tolist())))
                written += k
                user += 1
            f.write("\n".join(lines) + "\n")


GNU_TIME = Path("/usr/bin/time")


def run_with_rusage(argv: list[str], stdin: str | None = None) -> tuple[float, float, float, str]:
    """(wall seconds, CPU seconds, peak RSS in MiB, stdout) of one child process: CPU from wait4's rusage,
    peak RSS from GNU time when present (as benchmarks/scale.py's `child`): Linux carries a parent's
    peak RSS into a forked child's ru_maxrss, so at 25M rows every child printed this process's 3.4 GiB."""
    prefix = [str(GNU_TIME), "-f", "__RSS_KB__ %M"] if GNU_TIME.exists() else []
    t0 = time.perf_counter()
    out_file = tempfile.TemporaryFile(mode="w+")
    p = subprocess.Popen(prefix + argv, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                         stdout=out_file, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    if stdin is not None:
        p.stdin.write(stdin)
        p.stdin.close()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read()
    out_file.seek(0)
    out = out_file.read()
    if p.returncode:
        raise SystemExit(f"{argv[0]} failed ({p.returncode}): {err.strip()[:500]}")
    rss = usage.ru_maxrss / 1024
    for line in err.splitlines():
        if line.startswith("__RSS_KB__"):
            rss = int(line.split()[1]) / 1024
    return wall, usage.ru_utime + usage.ru_stime, rss, out


def bench_llmrec(csv_path: Path, work: Path) -> dict:
    db = work / f"llmrec-{csv_path.stem}.db"
    for f in work.glob(db.name + "*"):
        f.unlink()
    wall, cpu, rss, out = run_with_rusage([sys.executable, "-m", "engine.cli.main", "--db", str(db), "import",
                                      str(csv_path), "--json", "--quiet"])
    summary = json.loads(out)
    return {"wall": wall, "cpu": cpu, "rss": rss, "engine_s": summary["seconds"], "n": summary["n_interactions"]}


def bench_sqlite(sqlite: str, csv_path: Path, work: Path, pk: bool) -> dict:
    db = work / f"sqlite-{'pk' if pk else 'plain'}-{csv_path.stem}.db"
    for f in work.glob(db.name + "*"):
        f.unlink()
    key = ", PRIMARY KEY (userId, movieId)" if pk else ""
    script = ("PRAGMA journal_mode=WAL;\nPRAGMA synchronous=NORMAL;\n"
              f"CREATE TABLE ratings (userId TEXT, movieId TEXT, rating REAL, timestamp INTEGER{key});\n"
              f".import --csv --skip 1 {csv_path} ratings\n")
    wall, cpu, rss, _ = run_with_rusage([sqlite, str(db)], stdin=script)
    return {"wall": wall, "cpu": cpu, "rss": rss}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", default="1000000,5000000", help="comma-separated file sizes in rows")
    ap.add_argument("--keep", help="folder for the generated files and databases (default: a temp dir)")
    ap.add_argument("--shuffle", action="store_true", help="rows in random order (not user-major)")
    args = ap.parse_args()
    sizes = [int(x) for x in args.rows.split(",")]
    sqlite = shutil.which("sqlite3")
    if sqlite is None:
        print("NOTE: the sqlite3 shell is not installed, so SQLite's own .import cannot be measured; "
              "install it (e.g. `apt-get install -y sqlite3`) for the comparison. Measuring llmrec only.")
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="llmrec-import-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    results = []
    try:
        for n in sizes:
            csv_path = work / f"ratings_{n}{'_shuffled' if args.shuffle else ''}.csv"
            if not csv_path.exists():
                t0 = time.perf_counter()
                generate(csv_path, n)
                if args.shuffle:
                    head, *body = csv_path.read_text().splitlines()
                    np.random.default_rng(1).shuffle(body)
                    csv_path.write_text(head + "\n" + "\n".join(body) + "\n")
                print(f"generated {csv_path.name}: {n:,} rows, {csv_path.stat().st_size / 2**20:.0f} MiB "
                      f"in {time.perf_counter() - t0:.1f} s", flush=True)
            row = {"n": n, "llmrec": bench_llmrec(csv_path, work)}
            assert row["llmrec"]["n"] == n, row
            if sqlite:
                row["sqlite"] = bench_sqlite(sqlite, csv_path, work, pk=False)
                row["sqlite_pk"] = bench_sqlite(sqlite, csv_path, work, pk=True)
            results.append(row)
            for f in work.glob("*.db*"):
                f.unlink()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print()
    print("rows/s by wall clock (CPU seconds in brackets; on a busy machine compare the CPU ratio) and peak RSS")
    print(f"{'rows':>10} | {'llmrec import':>34} | {'sqlite3 .import plain':>34} | {'sqlite3 .import + PK':>34}")
    for r in results:
        n = r["n"]
        cells = [f"{n:>10,}"]
        for key in ("llmrec", "sqlite", "sqlite_pk"):
            if key in r:
                x = r[key]
                cells.append(f"{n / x['wall']:>9,.0f} rows/s ({x['cpu']:5.1f} s) {x['rss']:>5.0f} MiB")
        print(" | ".join(cells))
    if any("sqlite" in r for r in results):
        print("ratio = sqlite3 seconds / llmrec seconds (1.0: as fast as SQLite's own import; goal >= 0.5 vs + PK)")
        for r in results:
            lm, sp, sk = r["llmrec"], r["sqlite"], r["sqlite_pk"]
            print(f"{r['n']:>10,} rows: vs + PK wall {sk['wall'] / lm['wall']:.2f}, CPU {sk['cpu'] / lm['cpu']:.2f}; "
                  f"vs plain wall {sp['wall'] / lm['wall']:.2f}, CPU {sp['cpu'] / lm['cpu']:.2f}")
    for r in results:
        lm = r["llmrec"]
        print(f"llmrec {r['n']:,} rows: {lm['wall']:.2f} s wall (child process, incl. start-up), "
              f"{lm['engine_s']:.2f} s inside import_files = {r['n'] / lm['engine_s']:,.0f} rows/s")
    if len(results) >= 2:
        a, b = results[0], results[-1]
        print(f"peak memory {b['n']:,} vs {a['n']:,} rows: {b['llmrec']['rss']:.0f} / {a['llmrec']['rss']:.0f} MiB "
              f"= {b['llmrec']['rss'] / a['llmrec']['rss']:.2f}x for {b['n'] / a['n']:.0f}x the rows")


if __name__ == "__main__":
    main()
