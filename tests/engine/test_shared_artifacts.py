"""Two databases, one artifacts folder (issue 19, section 1): a tidy-up of one database never removes
another's model folders, nor a folder that records no owner; it reports them instead. Each cache
(embeddings, examples, counts) lives in a folder of its own database. On SQLite and PostgreSQL."""
from __future__ import annotations

import json
import os
import shutil
import time

import pytest

from engine.cli.main import main
from engine.data.aggregates import counts_path
from engine.encoder.catalogue import cache_path
from engine.ingest.importer import import_files
from engine.runs.baselines import fit_baseline
from engine.runs.loaded import load_run
from engine.runs.maintenance import tidy
from engine.runs.saving import RUNS_DIR
from engine.runs.training import examples_folder
from engine.store import open_store
from engine.store import repository as repo
from engine.store.ownership import OWNER_FILE, claim, is_own, owner_of


@pytest.fixture(params=["sqlite", "postgresql"])
def two_urls(request, tmp_path):
    if request.param == "sqlite":
        return str(tmp_path / "a.db"), str(tmp_path / "b.db")
    return request.getfixturevalue("postgres_url"), request.getfixturevalue("second_postgres_url")


@pytest.fixture
def second_postgres_url():
    """A second fresh database on the test server (postgres_url gives one per test)."""
    from tests.conftest import fresh_postgres_database
    with fresh_postgres_database() as url:
        yield url


def _ratings(tmp_path, name):
    path = tmp_path / f"{name}.csv"
    path.write_text("userId,movieId,rating,timestamp\n" + "".join(
        f"{u},{i},{1 + (u * i) % 5},{1000 + u * 10 + i}\n" for u in range(1, 30) for i in range(1, 12) if (u + i) % 3))
    return str(path)


def _age(folder, seconds=3600):
    old = time.time() - seconds
    os.utime(folder, (old, old))


@pytest.fixture
def shared(two_urls, tmp_path):
    art = tmp_path / "art"
    a, b = open_store(two_urls[0], artifacts=art), open_store(two_urls[1], artifacts=art)
    import_files(a, [_ratings(tmp_path, "a")], name="r")
    import_files(b, [_ratings(tmp_path, "b")], name="r")
    yield a, b, art
    a.close()
    b.close()


def test_each_database_has_its_own_identity(shared):
    a, b, _ = shared
    assert a.database_id != b.database_id and len(a.database_id) == 32
    again = open_store(a.url, artifacts=a.artifact_root)
    assert again.database_id == a.database_id       # written once, read back the same
    again.close()


def test_tidy_of_one_database_keeps_the_others_models(shared):
    a, b, art = shared
    run_id = fit_baseline(a, "r", "ease", holdout=False)
    with a.session() as s:
        folder = art / repo.get_run(s, run_id).artifact_dir
    assert owner_of(folder)["database_id"] == a.database_id          # recorded with the model
    assert is_own(folder, a) and not is_own(folder, b)
    _age(folder)                                                      # "wait a minute", and more
    report = tidy(b)
    assert report.removed_run_folders == []
    assert [name for name, _ in report.kept_run_folders] == [folder.name]
    assert "another database" in report.kept_run_folders[0][1]
    assert load_run(a, run_id).model is not None                      # A's run still explores


def test_own_leftovers_removed_others_and_unowned_reported(shared):
    a, b, art = shared
    root = art / RUNS_DIR
    root.mkdir(parents=True, exist_ok=True)
    mine, theirs, nobody = root / ".tmp-ease-a-killed", root / ".tmp-ease-b-killed", root / "ease-hand-made"
    for folder, owner in ((mine, a), (theirs, b), (nobody, None)):
        folder.mkdir()
        if owner is not None:
            claim(folder, owner)
        (folder / "model.npz").write_bytes(b"")
        _age(folder)
    report = tidy(a)
    assert report.removed_run_folders == [mine.name]
    kept = dict(report.kept_run_folders)
    assert set(kept) == {theirs.name, nobody.name}
    assert "no owner" in kept[nobody.name] and "another database" in kept[theirs.name]
    assert theirs.is_dir() and nobody.is_dir() and not mine.exists()
    assert tidy(b).removed_run_folders == [theirs.name]
    assert nobody.is_dir()                                            # never removed by anyone


def test_a_copy_of_an_sqlite_file_does_not_pass_for_the_original(tmp_path):
    art = tmp_path / "art"
    a = open_store(str(tmp_path / "a.db"), artifacts=art)
    import_files(a, [_ratings(tmp_path, "a")], name="r")
    root = art / RUNS_DIR
    root.mkdir(parents=True)
    left = root / ".tmp-pop-killed"
    left.mkdir()
    claim(left, a)
    _age(left)
    a.close()
    shutil.copy(tmp_path / "a.db", tmp_path / "copy.db")
    copy = open_store(str(tmp_path / "copy.db"), artifacts=art)
    report = tidy(copy)
    assert report.removed_run_folders == [] and "copy of this database" in dict(report.kept_run_folders)[left.name]
    copy.close()
    a = open_store(str(tmp_path / "a.db"), artifacts=art)
    assert tidy(a).removed_run_folders == [left.name]
    a.close()


def test_caches_live_in_each_databases_own_folder(shared):
    a, b, art = shared
    with a.session() as s:
        ida = repo.get_dataset(s, "r").id
    with b.session() as s:
        idb = repo.get_dataset(s, "r").id
    assert ida == idb                                   # the same dataset id in both databases...
    for where in (lambda st, i: counts_path(st, i, 4.0), cache_path, examples_folder):
        pa, pb = where(a, ida), where(b, idb)
        assert pa != pb                                 # ...but never the same cache file
        assert art in pa.parents and art in pb.parents


def test_doctor_names_what_it_leaves_alone(tmp_path, capsys):
    art = tmp_path / "art"
    a_db, b_db = str(tmp_path / "a.db"), str(tmp_path / "b.db")
    assert main(["--db", a_db, "--artifacts", str(art), "import", _ratings(tmp_path, "a"), "--name", "r"]) == 0
    assert main(["--db", a_db, "--artifacts", str(art), "train", "--dataset", "r", "--model", "popularity",
                 "--no-holdout"]) == 0
    assert main(["--db", b_db, "--artifacts", str(art), "import", _ratings(tmp_path, "b"), "--name", "r"]) == 0
    (folder,) = (art / RUNS_DIR).iterdir()
    _age(folder)
    capsys.readouterr()
    assert main(["--db", b_db, "--artifacts", str(art), "doctor", "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["removed_run_folders"] == [] and [k["name"] for k in out["kept_run_folders"]] == [folder.name]
    assert (folder / OWNER_FILE).is_file() and (folder / "model.npz").is_file()
    assert main(["--db", b_db, "--artifacts", str(art), "doctor"]) == 0
    assert f"left alone: model folder {folder.name}" in capsys.readouterr().out
    assert main(["--db", a_db, "--artifacts", str(art), "explore", "--run", "1", "--user", "1"]) == 0


def test_an_embeddings_cache_from_before_is_still_read(store, tmp_path):
    """Caches moved into per-database folders: the old shared location is still read (keyed by text
    hash, so safe whoever wrote it), so nobody re-encodes a catalogue after the upgrade."""
    import numpy as np

    from engine.data.dataset import load_dataset
    from engine.encoder.catalogue import _write_cache, load_catalogue_vectors, text_hashes
    from engine.encoder.static import STATIC_NAME
    import_files(store, [_ratings(tmp_path, "a")], name="r")
    ds = load_dataset(store, "r")
    vectors = np.random.default_rng(0).normal(size=(ds.n_items, 384)).astype(np.float32)
    old = store.artifact_root / "embeddings" / f"dataset-{ds.info.id}" / f"{STATIC_NAME}.npz"
    _write_cache(old, text_hashes(ds), vectors)
    assert not cache_path(store, ds.info.id, STATIC_NAME).exists()
    np.testing.assert_array_equal(load_catalogue_vectors(store, ds, STATIC_NAME), vectors)
