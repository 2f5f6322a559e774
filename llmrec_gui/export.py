"""Write the explorer's list (CSV) and metrics (JSON). Plots are exported by their widgets
through pyqtgraph's exporters (PNG and SVG)."""
from __future__ import annotations

import csv
import json


def write_list_csv(path: str, rec, item_ids) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["rank", "item_id", "title", "genres", "score", "promoted", "explanation"])
        for r, item in enumerate(rec.items):
            w.writerow([r + 1, item_ids[int(item)], rec.titles[r], "|".join(rec.genres[r]),
                        f"{float(rec.scores[r]):.6f}", int(bool(rec.promoted[r])),
                        rec.explanations[r] if r < len(rec.explanations) else ""])


def write_metrics_json(path: str, rec, *, run_id: int, user_id: str) -> None:
    doc = {"run": run_id, "user": user_id, "method": rec.method, "tradeoff": rec.tradeoff,
           "k": len(rec.items), "similarity_space": rec.space,
           "metrics": {k: (None if v != v else v) for k, v in rec.metrics.items()}}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
