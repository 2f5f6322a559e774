"""How fast the app starts, opens a view and quits (issue 22, item 4), beside a bare PySide6 window
measured in the same run (these machines are noisy: compare the ratios).

Each case is a fresh process; its start-up milestones come from LLMREC_GUI_TRACE_STARTUP (stderr lines,
timed here as they arrive, from the moment the process is started):
- painted: the window is on screen and painted ("Loading…" in the views);
- views built: the three views exist (the window answers clicks from here at the latest);
- database open: the store process is up and the database opened (and, on a fresh database, the demo
  dataset and its EASE baseline made);
- explore list shown: a user's recommendations are on screen (Explore is usable from here);
- complete: the view shows everything it will (the Datasets table and plots; in Explore also the frontier,
  a sweep over every test user that runs in the background);
- stall: the longest time the window could not answer a click, from painted to that milestone;
- quit: from the window closing to the process' exit.
Also `llmrec-gui --screenshot` of each view on an existing database (process start to exit).

    QT_QPA_PLATFORM=offscreen python benchmarks/startup.py [--repeat 3]

Targets (issue 22): painted under 1 s warm; the demo explorable under 10 s from a fresh install;
--screenshot of any view under 3 s on an existing database.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
BARE = ("import time; t=time.perf_counter()\n"
        "from PySide6.QtWidgets import QApplication, QMainWindow, QLabel\n"
        "app = QApplication([]); w = QMainWindow(); w.setCentralWidget(QLabel('hello')); w.resize(1280, 800)\n"
        "w.show(); app.processEvents(); print(f'llmrec-gui startup: painted {time.perf_counter() - t:.3f}', flush=True)\n")
LINE = re.compile(r"llmrec-gui startup: (?P<name>.+?) [\d.]+(?: stall (?P<stall>[\d.]+))?$")


def timed_lines(cmd: list[str], env: dict) -> tuple[dict, float]:
    """({milestone: (seconds since start, longest stall so far)}, seconds to exit) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen: dict = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        m = LINE.search(line.strip())
        if m:
            seen[m.group("name")] = (time.perf_counter() - start, float(m.group("stall") or 0.0))
    proc.wait()
    return seen, time.perf_counter() - start


def app_cmd(db: str, artifacts: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "llmrec_gui", "--db", db, "--artifacts", artifacts, "--settings",
            os.path.join(artifacts, "settings.ini"), *extra]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per case; the best is shown (default 3)")
    args = ap.parse_args()
    env = dict(os.environ, LLMREC_GUI_TRACE_STARTUP="1", LLMREC_GUI_NO_DIALOGS="1")
    tmp = Path(tempfile.mkdtemp(prefix="llmrec-startup-"))
    rows: list[tuple[str, str, float, float]] = []

    def best(name, cmd, milestones):
        runs = [timed_lines(cmd, env) for _ in range(args.repeat)]
        for m in milestones:
            got = [r[0][m] for r in runs if m in r[0]]
            if got:
                t, stall = min(got)
                rows.append((name, m, t, stall))
        if "event loop ended" in runs[0][0]:
            quit_s = min(total - r["event loop ended"][0] for r, total in runs if "event loop ended" in r)
            rows.append((name, "quit (close to exit)", quit_s, 0.0))
        return runs

    best("bare PySide6 window", [sys.executable, "-c", BARE], ["painted"])
    ref = rows[0][2]
    # a fresh install: an empty database, the demo made and fitted on first launch, straight to Explore
    fresh = [(tmp / f"fresh{i}.db", tmp / f"fresh{i}") for i in range(args.repeat)]
    runs = [timed_lines(app_cmd(str(db), str(art), "--view", "explore", "--quit-when-complete"), env)
            for db, art in fresh]
    for m in ("painted", "views built", "database open", "explore list shown", "complete explore"):
        got = [r[0][m] for r in runs if m in r[0]]
        if got:
            rows.append(("fresh install -> Explore", m, *min(got)))
    db, art = str(fresh[0][0]), str(fresh[0][1])
    for view in ("datasets", "explore", "train"):
        best(f"existing database -> {view.capitalize()}", app_cmd(db, art, "--view", view, "--quit-when-complete"),
             ["painted", "views built", "database open"] + (["explore list shown"] if view == "explore" else [])
             + [f"complete {view}"])
    for view in ("datasets", "train", "explore"):
        times = []
        for _ in range(args.repeat):
            _, total = timed_lines(app_cmd(db, art, "--screenshot", str(tmp / f"{view}.png"), "--view", view), env)
            times.append(total)
        rows.append((f"--screenshot --view {view}", "process start to exit", min(times), 0.0))

    load = os.getloadavg()[0]
    print(f"best of {args.repeat}; load average {load:.1f}; {os.cpu_count()} CPUs; QT_QPA_PLATFORM="
          f"{os.environ['QT_QPA_PLATFORM']}")
    print(f"{'case':34s} {'milestone':26s} {'seconds':>8s} {'x bare':>7s} {'stall s':>8s}")
    for name, m, t, stall in rows:
        print(f"{name:34s} {m:26s} {t:8.2f} {t / ref:7.1f} {stall:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
