"""Nothing lost or left behind after kill -9 (issue 8, section 4): leftovers of killed saves are
removed, a folder a running save owns is not; NaN models are refused when saved and when loaded;
`recommend --out` never leaves a partial file."""
from __future__ import annotations

import os

import numpy as np
import pytest

from engine.cli.main import main
from engine.errors import DataError
from engine.ingest.importer import import_files
from engine.runs.baselines import fit_baseline
from engine.runs.loaded import load_run
from engine.runs.saving import RUNS_DIR, _own, _release, clean_leftovers
from engine.store import repository as repo
from engine.store.ownership import claim


@pytest.fixture
def dataset(store, tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("userId,movieId,rating,timestamp\n" + "".join(
        f"{u},{i},{1 + (u * i) % 5},{1000 + u * 10 + i}\n" for u in range(1, 30) for i in range(1, 12) if (u + i) % 3))
    import_files(store, [str(path)], name="r")
    return "r"


def test_leftovers_are_removed_but_not_what_a_running_save_owns(store, dataset):
    run_id = fit_baseline(store, dataset, "popularity", holdout=False)
    root = store.artifact_root / RUNS_DIR
    registered = {p.name for p in root.iterdir()}
    tmp = root / ".tmp-popularity-killed"              # kill -9 during model.save
    tmp.mkdir()
    claim(tmp, store)
    (tmp / "model.npz").write_bytes(b"")
    orphan = root / "popularity-killed-after-rename"   # kill -9 between the rename and the registration
    orphan.mkdir()
    claim(orphan, store)
    (orphan / "model.json").write_text("{}")
    busy = root / ".tmp-ease-still-saving"             # a save in progress (it holds the folder's lock)
    busy.mkdir()
    claim(busy, store)
    owner = _own(busy)
    assert clean_leftovers(store).removed == []        # all too young: a save may be about to lock them
    try:
        removed = clean_leftovers(store, min_age_s=0).removed
    finally:
        _release(owner)
    assert sorted(removed) == sorted([tmp.name, orphan.name])
    assert {p.name for p in root.iterdir()} == registered | {busy.name}
    assert load_run(store, run_id).model is not None
    assert clean_leftovers(store, min_age_s=0).removed == [busy.name]   # once its owner is gone


def test_doctor_cleans_and_checks(store, dataset, capsys):
    (store.artifact_root / RUNS_DIR).mkdir(parents=True, exist_ok=True)
    (store.artifact_root / RUNS_DIR / ".tmp-x").mkdir()
    claim(store.artifact_root / RUNS_DIR / ".tmp-x", store)
    old = __import__("time").time() - 3600
    os.utime(store.artifact_root / RUNS_DIR / ".tmp-x", (old, old))   # left an hour ago
    assert main(["doctor", "--db", store.engine.url.database, "--json"]) == 0
    import json
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out == {"integrity": "ok", "removed_run_folders": [".tmp-x"], "removed_imports": [],
                   "kept_run_folders": [], "kept_imports": []}


def test_a_nan_model_is_refused_when_saved(store, dataset, monkeypatch):
    from engine.models.popularity import PopularityRecommender
    real = PopularityRecommender._arrays
    monkeypatch.setattr(PopularityRecommender, "_arrays", lambda self: {
        k: np.full_like(np.asarray(v, dtype=np.float32), np.nan) for k, v in real(self).items()})
    with pytest.raises(DataError, match="not finite"):
        fit_baseline(store, dataset, "popularity", holdout=False)
    with store.session() as s:
        assert repo.list_runs(s) == []
    assert list((store.artifact_root / RUNS_DIR).iterdir()) == []


@pytest.mark.parametrize("damage", ["nan", "truncated", "missing", "swapped"])
def test_a_damaged_model_is_refused_when_loaded(store, dataset, damage):
    run_id = fit_baseline(store, dataset, "popularity", holdout=False)
    other = fit_baseline(store, dataset, "ease", holdout=False)
    with store.session() as s:
        folder = store.artifact_root / repo.get_run(s, run_id).artifact_dir
        other_folder = store.artifact_root / repo.get_run(s, other).artifact_dir
    npz = folder / "model.npz"
    if damage == "nan":
        with np.load(npz) as z:
            arrays = {k: np.full_like(z[k], np.nan, dtype=np.float64) for k in z.files}
        np.savez(npz, **arrays)
    elif damage == "truncated":
        npz.write_bytes(npz.read_bytes()[:50])
    elif damage == "missing":
        (folder / "model.json").unlink()
    else:
        npz.write_bytes((other_folder / "model.npz").read_bytes())
    with pytest.raises(DataError):
        load_run(store, run_id)


def test_recommend_out_never_leaves_a_partial_file(store, dataset, tmp_path, monkeypatch, capsys):
    import engine.cli.models as models
    run_id = fit_baseline(store, dataset, "popularity", holdout=False)
    db = store.engine.url.database

    def broken(tmp, *a):
        tmp.write_text("user,item\n1,2\n")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(models, "_write_recommendations", broken)
    out = tmp_path / "recs.csv"
    assert main(["recommend", "--db", db, "--run", str(run_id), "--out", str(out)]) == 1
    assert list(tmp_path.glob("*recs*")) == []
    folder = tmp_path / "folder"
    folder.mkdir()
    assert main(["recommend", "--db", db, "--run", str(run_id), "--out", str(folder)]) == 2
    assert list(folder.iterdir()) == [] and list(tmp_path.glob("*.part")) == []
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "No space left" in err[0] and "is a folder" in err[1]


SAVER = """
import sys, time, pathlib
from engine.models.popularity import PopularityRecommender
from engine.runs.baselines import fit_baseline
from engine.store import open_store
def slow_save(self, directory):
    (pathlib.Path(directory) / "model.npz").write_bytes(b"")   # a half-written model, as at a kill
    pathlib.Path(sys.argv[2]).write_text("saving")
    time.sleep(600)
PopularityRecommender.save = slow_save
fit_baseline(open_store(sys.argv[1]), "r", "popularity", holdout=False)
"""


def test_kill_9_during_a_save_a_running_save_is_kept_its_leftover_removed(store, dataset, tmp_path):
    import signal
    import subprocess
    import sys
    import time
    ready = tmp_path / "ready"
    saver = subprocess.Popen([sys.executable, "-c", SAVER, store.engine.url.database, str(ready)])
    try:
        while not ready.exists():
            assert saver.poll() is None, "the saver died"
            time.sleep(0.05)
        assert clean_leftovers(store, min_age_s=0).removed == []   # its folder is in use: kept
        os.kill(saver.pid, signal.SIGKILL)
        saver.wait(60)
    finally:
        if saver.poll() is None:
            saver.kill()
    removed = clean_leftovers(store, min_age_s=0).removed
    assert len(removed) == 1 and removed[0].startswith(".tmp-popularity")
    assert list((store.artifact_root / RUNS_DIR).iterdir()) == []
