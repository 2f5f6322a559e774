"""The three datasets of benchmarks/quality.py, imported through the engine's own importer into one
benchmark database (created once, reused): MovieTweetings (no options), X-Wines Slim (explicit column
mapping) and the bundled demo data.

X-Wines ships as a zip of two CSVs with list-valued attribute columns; the importer reads plain files,
so the two CSVs are extracted to a folder beside the database, with two derived item columns added:
`Categories` (Type plus each grape, the categories PEERS.md measures ILD in) and `Text` (the attributes
a model may read: elaborate, grapes, food pairings, body, acidity, country, region, winery)."""
from __future__ import annotations

import ast
import csv
import io
import zipfile
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
MOVIETWEETINGS = SHARED / "movietweetings-100k"
XWINES_ZIP = SHARED / "x-wines-slim" / "XWines_Slim_1K_wines_150K_ratings.zip"
NAMES = {"movietweetings": "MovieTweetings", "xwines": "X-Wines", "demo": "Demo movies"}
XWINES_MAPPING = dict(user="UserID", item="WineID", rating="Rating", timestamp="Date", item_id="WineID",
                      title="WineName", genres="Categories", description="Text")
TEXT_COLUMNS = ("Elaborate", "Grapes", "Harmonize", "Body", "Acidity", "Country", "RegionName", "WineryName")


def _as_list(value: str) -> list[str]:
    try:
        v = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return [value] if value else []
    return [str(x) for x in v] if isinstance(v, (list, tuple)) else [str(v)]


def extract_xwines(zip_path: Path, folder: Path) -> tuple[Path, Path]:
    """(ratings.csv, wines.csv) in `folder`; wines.csv gains the `Categories` and `Text` columns."""
    folder.mkdir(parents=True, exist_ok=True)
    ratings, wines = folder / "XWines_Slim_150K_ratings.csv", folder / "XWines_Slim_1K_wines.csv"
    if ratings.exists() and wines.exists():
        return ratings, wines
    with zipfile.ZipFile(zip_path) as z:
        ratings.write_bytes(z.read(ratings.name))
        rows = list(csv.DictReader(io.StringIO(z.read(wines.name).decode("utf-8"))))
    with wines.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]) + ["Categories", "Text"])
        w.writeheader()
        for r in rows:
            cats = [r["Type"]] + _as_list(r["Grapes"])
            text = ". ".join(", ".join(_as_list(r[c])) if c in ("Grapes", "Harmonize") else r[c] for c in TEXT_COLUMNS)
            w.writerow({**r, "Categories": "|".join(c for c in cats if c), "Text": text})
    return ratings, wines


def open_benchmark_store(db: Path, which: list[str]):
    """The benchmark database with the requested datasets imported (each once)."""
    from engine.data.demo import create_demo_dataset
    from engine.ingest import import_files
    from engine.store import open_store
    from engine.store import repository as repo
    db.parent.mkdir(parents=True, exist_ok=True)
    store = open_store(str(db))
    for key in which:
        name = NAMES[key]
        with store.session() as s:
            if repo.dataset_exists(s, name):
                continue
        if key == "demo":
            create_demo_dataset(store)
        elif key == "movietweetings":
            import_files(store, [MOVIETWEETINGS], name=name)
        else:
            ratings, wines = extract_xwines(XWINES_ZIP, db.parent / "x-wines-csv")
            import_files(store, [ratings, wines], name=name, mapping=XWINES_MAPPING)
    return store
