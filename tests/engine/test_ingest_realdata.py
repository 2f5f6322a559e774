"""Real data from ../shared/data (skipped when absent): MovieTweetings, UCI Online Retail and X-Wines."""
from __future__ import annotations

import pytest

from engine.data.dataset import load_dataset
from engine.ingest import Exclude, detect_format, import_files
from tests.conftest import shared_data_or_skip

pytestmark = pytest.mark.slow   # the real datasets in ../shared/data: the full tier only (`pytest -m "not slow"` skips it)


def test_movietweetings_100k_imports_all_ratings_and_movies(store):
    folder = shared_data_or_skip("movietweetings-100k")
    det = detect_format([folder / "ratings.dat"])
    assert det.name == "movietweetings" and det.items is not None
    s = import_files(store, [folder])
    assert (s.n_interactions, s.n_items, s.n_users) == (100_000, 10_506, 16_554)
    assert s.skipped == {} and s.duplicates == 0
    assert (s.rating_min, s.rating_max, s.positive_threshold) == (0, 10, 8)
    ds = load_dataset(store, s.dataset_id)
    ids = list(ds.item_ids)
    k = ids.index("0002844")                       # leading zeros kept
    assert ds.titles[k].startswith("Fantômas") and ds.genres[k] == ("Crime", "Drama")
    assert sum(1 for g in ds.genres if not g) > 0  # some movies have no genre


def test_online_retail_imports_with_skip_counts(store):
    path = shared_data_or_skip("online-retail", "onlineretail.csv.gz")
    mapping = {"user": "CustomerID", "item": "StockCode", "title": "Description", "timestamp": "InvoiceDate",
               "skip_missing_user": True, "exclude": (Exclude("InvoiceNo", "prefix", "C", "cancellation"),)}
    s = import_files(store, [path], name="retail", mapping=mapping)
    assert s.rows_read == 541_909
    assert s.skipped["missing user"] == 135_080
    assert s.skipped["cancellation"] == 8_905     # cancellations that have a customer
    assert s.rating_min is None and s.n_users == 4_339 and s.n_items == 3_665
    assert s.n_interactions + s.duplicates == 541_909 - 135_080 - 8_905
    ds = load_dataset(store, "retail")
    assert ds.info.is_implicit and ds.titles[list(ds.item_ids).index("85123A")] == "WHITE HANGING HEART T-LIGHT HOLDER"


def _xwines_csvs(tmp_path):
    """The two X-Wines CSV files, unpacked from the archive in ../shared/data."""
    import zipfile
    archive = shared_data_or_skip("x-wines-slim", "XWines_Slim_1K_wines_150K_ratings.zip")
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(tmp_path)
    return archive, tmp_path / "XWines_Slim_150K_ratings.csv", tmp_path / "XWines_Slim_1K_wines.csv"


def test_xwines_imports_with_no_options(tmp_path, capsys):
    """`llmrec import XWines_Slim_150K_ratings.csv XWines_Slim_1K_wines.csv --name xw`, as the issue has it."""
    from engine.cli.main import main
    from engine.store import open_store
    _, ratings, wines = _xwines_csvs(tmp_path)
    db = str(tmp_path / "xw.db")
    assert main(["--db", db, "import", str(ratings), str(wines), "--name", "xw"]) == 0
    assert "users 10,561  items 1,007  interactions 150,000" in capsys.readouterr().out
    store = open_store(db)
    try:
        ds = load_dataset(store, "xw")
    finally:
        store.close()
    assert ds.info.genres_label == "Categories" and (ds.info.rating_min, ds.info.rating_max) == (1, 5)
    k = list(ds.item_ids).index("100001")
    assert ds.titles[k] == "Espumante Moscatel" and ds.genres[k] == ("Sparkling", "Muscat/Moscato")
    assert "grapes: Muscat/Moscato" in ds.descriptions[k]
    assert "harmonize: Pork, Rich Fish, Shellfish" in ds.descriptions[k] and "country: Brazil" in ds.descriptions[k]
    assert all("grapes: " in d and "harmonize: " in d for d in ds.descriptions)


def test_xwines_zip_imports_as_its_two_files(store, tmp_path):
    archive, _, _ = _xwines_csvs(tmp_path)
    s = import_files(store, [archive], dry_run=True)
    assert (s.n_users, s.n_items, s.n_interactions) == (10_561, 1_007, 150_000)
