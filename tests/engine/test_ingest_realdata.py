"""Real data from ../shared/data (skipped when absent): MovieTweetings and UCI Online Retail."""
from __future__ import annotations

from engine.data.dataset import load_dataset
from engine.ingest import Exclude, detect_format, import_files
from tests.conftest import shared_data_or_skip


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
