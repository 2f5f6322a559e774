"""Write the explorer's list (CSV) and metrics (JSON). Both start from the list record the CLI's
`explore --json` prints (engine.explore.live_list.list_record), so a file says which dataset, run, user,
method and trade-off it shows. Plots are exported by their widgets (PNG and SVG)."""
from __future__ import annotations

import csv
import json


def header_lines(doc: dict) -> list[str]:
    return [f"# dataset: {doc['dataset']}", f"# run: {doc['run']}", f"# user: {doc['user']}",
            f"# method: {doc['method']}", f"# tradeoff: {doc['tradeoff']:g}",
            f"# rerank space: {doc.get('rerank_space')}", f"# k: {doc['k']}"]


def write_list_csv(path: str, doc: dict, rec) -> None:
    """`doc`: the list record; `rec`: the engine RecList (for genres and explanations)."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        for line in header_lines(doc):
            f.write(line + "\n")
        w = csv.writer(f)
        w.writerow(["rank", "item_id", "title", "genres", "score", "promoted", "explanation"])
        for row, r in zip(doc["items"], rec.rows):
            w.writerow([row["rank"], row["item"], row["title"], "|".join(r.genres), f"{r.score:.6f}",
                        int(row["promoted"]), r.explanation])


def write_metrics_json(path: str, doc: dict) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump({k: v for k, v in doc.items() if k != "similarity"}, f, indent=2)
