"""`llmrec doctor`: check the database and remove what a killed job left behind."""
from __future__ import annotations

from engine.cli.main import add_common, emit_json
from engine.runs.maintenance import tidy


def register(sub) -> None:
    p = sub.add_parser("doctor", help="check the database; remove leftovers of killed imports and model saves "
                       "(only this database's own: folders of other databases sharing the artifacts folder "
                       "are reported, never removed)")
    add_common(p)
    p.set_defaults(func=cmd_doctor)


def cmd_doctor(args, store) -> int:
    report = tidy(store, check_integrity=True)
    if args.json:
        emit_json({"integrity": report.integrity, "removed_run_folders": report.removed_run_folders,
                   "removed_imports": report.removed_imports,
                   "kept_run_folders": [{"name": n, "why": w} for n, w in report.kept_run_folders],
                   "kept_imports": [{"name": n, "why": w} for n, w in report.kept_imports]})
    else:
        print(f"integrity: {report.integrity}")
        print(f"removed {len(report.removed_run_folders)} unfinished model folder(s)"
              + (f": {', '.join(report.removed_run_folders)}" if report.removed_run_folders else ""))
        print(f"removed {len(report.removed_imports)} unfinished import(s)"
              + (f": {', '.join(report.removed_imports)}" if report.removed_imports else ""))
        for name, why in report.kept_run_folders:
            print(f"left alone: model folder {name} in {store.artifact_root}: not referenced here, but {why}")
        for name, why in report.kept_imports:
            print(f"left alone: unfinished import {name}: {why}")
    return 0 if report.integrity == "ok" else 1
