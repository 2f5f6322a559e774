"""Speeds measured on this machine (texts encoded per second, per encoder), kept beside the model files in
`<artifacts>/timings/<host>.json`, so a plan made before a training can say roughly how long its steps take
here (engine.runs.plan). Only the last few figures of each kind are kept; a missing or unreadable file is
simply "nothing measured yet"."""
from __future__ import annotations

import json
import os
import socket
import statistics
from pathlib import Path

KEEP = 5     # figures kept per kind (the median of these is the rate)


def _path(store) -> Path:
    return Path(store.artifact_root) / "timings" / f"{socket.gethostname() or 'this-machine'}.json"


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def record(store, kind: str, units: float, seconds: float) -> None:
    """Note that `units` of `kind` (e.g. "encode:all-MiniLM-L6-v2" texts) took `seconds` here."""
    if units <= 0 or seconds <= 0:
        return
    path = _path(store)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = _read(path)
        rates = [float(r) for r in data.get(kind, []) if isinstance(r, (int, float))]
        data[kind] = (rates + [units / seconds])[-KEEP:]
        tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:          # a read-only model folder: the plan just says "not measured yet"
        pass


def rate(store, kind: str) -> float | None:
    """Units per second of `kind` on this machine (median of the last figures), None if never measured."""
    rates = [float(r) for r in _read(_path(store)).get(kind, []) if isinstance(r, (int, float)) and r > 0]
    return statistics.median(rates) if rates else None
