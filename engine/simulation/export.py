"""A stored simulation as CSV or JSON, with its settings in the file (so a figure can be remade)."""
from __future__ import annotations

import csv
import io
import json

from engine.simulation.metrics import METRICS


def to_json(simulation: dict) -> str:
    """{"simulation": id, "settings": {...}, "rounds": [{policy, round, metrics...}]} (lists left out)."""
    rounds = [dict(policy=r["policy"], round=r["round"], **r["metrics"]) for r in simulation["rounds"]]
    return json.dumps(dict(simulation=simulation["id"], dataset=simulation["dataset"], run_id=simulation["run_id"],
                           settings=simulation["settings"], rounds=rounds), default=str, indent=1)


def to_csv(simulation: dict) -> str:
    """One row per policy and round; the settings first, as `# settings: {json}` comment lines."""
    out = io.StringIO()
    out.write(f"# simulation {simulation['id']} of dataset {simulation['dataset']}, run {simulation['run_id']}\n")
    out.write(f"# settings: {json.dumps(simulation['settings'], sort_keys=True)}\n")
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["policy", "round", *METRICS])
    for r in simulation["rounds"]:
        w.writerow([r["policy"], r["round"], *("" if r["metrics"].get(m) is None else r["metrics"][m]
                                                for m in METRICS)])
    return out.getvalue()
