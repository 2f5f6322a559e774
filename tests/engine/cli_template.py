"""The small rated dataset with an EASE run that the CLI error and trust tests copy (one per module)."""
from __future__ import annotations

from pathlib import Path

from engine.ingest.importer import import_files
from engine.runs.baselines import fit_baseline
from engine.store import open_store


def make_template(folder: Path, *, holdout: bool) -> int:
    """`folder`/r.csv imported as dataset "r" into `folder`/t.db, with an EASE run; returns the run id."""
    csv = folder / "r.csv"
    csv.write_text("userId,movieId,rating,timestamp\n" + "".join(
        f"u{u},i{i},{1 + (u * i) % 5},{1000 + u * 10 + i}\n"
        for u in range(1, 30) for i in range(1, 12) if (u + i) % 3))
    store = open_store(str(folder / "t.db"))
    try:
        import_files(store, [str(csv)], name="r")
        return fit_baseline(store, "r", "ease", holdout=holdout)
    finally:
        store.close()
