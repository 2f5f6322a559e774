"""A baseline's fit + evaluation the way the app runs it (Train ▸ Fit baselines: a child process through
engine.runs.child_tasks.train_in_child, progress sent back) and the way the CLI runs it (`llmrec train
--model M`), in the same run on the same database (issue 22, item 1: ALS took minutes in the app, seconds in
the CLI). Each path gets a fresh copy of the database, so neither reuses the other's run.

    python benchmarks/baseline_paths.py [--model als] [--db sqlite:///DB --artifacts DIR --dataset xwines]

Without --db it imports X-Wines from ../shared/data into a temporary database first.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
XWINES = ROOT.parent / "shared" / "data" / "x-wines-slim" / "XWines_Slim_1K_wines_150K_ratings.zip"


def copy_db(src: Path, dst: Path) -> Path:
    import sqlite3
    a, b = sqlite3.connect(str(src)), sqlite3.connect(str(dst))
    a.backup(b)
    a.close()
    b.close()
    return dst


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="als", help="the baseline to time (default als)")
    ap.add_argument("--db", help="an SQLite database path holding the dataset (default: import X-Wines)")
    ap.add_argument("--dataset", default="xwines", help="the dataset's name (default xwines)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="llmrec-baseline-paths-"))
    cli = [sys.executable, "-m", "engine.cli.main"]
    if args.db:
        source = Path(args.db.removeprefix("sqlite:///"))
    else:
        if not XWINES.exists():
            print(f"skipped: {XWINES} is absent (give --db)")
            return 0
        source = tmp / "source.db"
        subprocess.run([*cli, "--db", f"sqlite:///{source}", "--artifacts", str(tmp / "src-art"), "import",
                        str(XWINES), "--name", args.dataset, "--quiet"], cwd=ROOT, check=True)
    app_db, cli_db = copy_db(source, tmp / "app.db"), copy_db(source, tmp / "cli.db")

    from engine.jobs.executor import ChildProcess
    from engine.runs.child_tasks import train_in_child
    from engine.runs.training import TrainConfig
    updates = []
    os.environ["LLMREC_ARTIFACTS"] = str(tmp / "app-art")
    start = time.perf_counter()
    ChildProcess().submit(train_in_child, TrainConfig(dataset=args.dataset, model=args.model), f"sqlite:///{app_db}",
                          progress=updates.append)
    app_s = time.perf_counter() - start
    del os.environ["LLMREC_ARTIFACTS"]
    start = time.perf_counter()
    out = subprocess.run([*cli, "--db", f"sqlite:///{cli_db}", "--artifacts", str(tmp / "cli-art"), "train",
                          "--dataset", args.dataset, "--model", args.model], cwd=ROOT, check=True,
                         capture_output=True, text=True)
    cli_s = time.perf_counter() - start
    print(f"load average {os.getloadavg()[0]:.1f}; {os.cpu_count()} CPUs")
    print(f"{args.model} fit + evaluation on {args.dataset}:")
    print(f"  app path (child process, {len(updates)} progress updates): {app_s:6.1f} s")
    print(f"  CLI path (llmrec train):                       {cli_s:6.1f} s   ratio app/CLI {app_s / cli_s:.2f}")
    print("  " + out.stdout.strip().splitlines()[-1])
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
