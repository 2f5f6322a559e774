"""Deleting a run, removing its index, exporting its record (issue 22: the runs table's context menu, and
`llmrec runs delete|remove-index|export`): files are removed only from folders this database owns."""
from __future__ import annotations

import json

import pytest

from engine.cli.main import main
from engine.data.demo import DEMO_NAME, create_demo_dataset
from engine.errors import NotFoundError
from engine.runs import manage
from engine.runs.baselines import fit_baseline
from engine.runs.loaded import run_path
from engine.store import repository as repo


@pytest.fixture
def fitted(any_store):
    create_demo_dataset(any_store, n_items=120, n_users=80)
    run_id = fit_baseline(any_store, DEMO_NAME, "ease")
    with any_store.session() as s:
        info = repo.get_run(s, run_id)
    return any_store, run_id, run_path(any_store, info)


def test_delete_removes_the_record_and_its_own_folder(fitted):
    store, run_id, folder = fitted
    assert folder.exists()
    done = manage.delete_run(store, run_id)
    assert done.removed and not folder.exists()
    with store.session() as s, pytest.raises(NotFoundError):
        repo.get_run(s, run_id)
    with store.session() as s:
        assert repo.run_epochs(s, run_id) == []


def test_delete_leaves_another_databases_folder_alone(fitted):
    store, run_id, folder = fitted
    owner = folder / ".llmrec-owner.json"
    record = json.loads(owner.read_text())
    record["database_id"] = "another-database"
    owner.write_text(json.dumps(record))
    done = manage.delete_run(store, run_id)
    assert not done.removed and "another database" in done.left_alone
    assert folder.exists() and any(folder.iterdir())        # every file kept
    with store.session() as s:
        assert all(r.id != run_id for r in repo.list_runs(s))


def test_remove_index_and_export(fitted, tmp_path):
    store, run_id, folder = fitted
    assert not manage.remove_index(store, run_id).removed          # none yet: nothing to remove
    (folder / "index.faiss").write_bytes(b"x")
    (folder / "index.json").write_text(json.dumps({"kind": "ivf", "nlist": 4, "nprobe": 2, "n_items": 120}))
    out = tmp_path / "run.json"
    manage.export_run(store, run_id, out)
    record = json.loads(out.read_text())
    assert record["id"] == run_id and record["model"] == "ease" and record["metrics"]["ndcg@10"] is not None
    assert record["index"]["nlist"] == 4
    assert manage.remove_index(store, run_id).removed
    assert not (folder / "index.faiss").exists() and not (folder / "index.json").exists()
    assert (folder / ".llmrec-owner.json").exists()                # the run itself stays


def test_cli_runs_actions(fitted, tmp_path, capsys):
    store, run_id, folder = fitted
    url = store.url
    args = ["--db", url, "--artifacts", str(store.artifact_root)]
    assert main([*args, "runs", "export", "--run", str(run_id), "--out", str(tmp_path / "r.json")]) == 0
    assert json.loads((tmp_path / "r.json").read_text())["id"] == run_id
    assert main([*args, "runs", "delete"]) == 2                     # which run?
    assert main([*args, "runs", "delete", "--run", str(run_id)]) == 0
    assert f"run {run_id}: deleted; its files removed" in capsys.readouterr().out
    assert not folder.exists()
    assert main([*args, "runs", "delete", "--run", str(run_id)]) != 0          # gone: a clear error
