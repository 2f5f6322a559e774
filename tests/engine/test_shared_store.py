"""The shared store: the same commands on an SQLite file and on a real PostgreSQL server (migrations,
64-bit timestamps, model files in --artifacts), two instances seeing each other's work, and two
concurrent writers never losing each other's writes."""
from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from engine.cli.main import main
from engine.errors import DatabaseVersionError, EngineError
from engine.store import open_store
from engine.store import repository as repo
from engine.store.db import head_revision

DATA = Path(__file__).resolve().parents[1] / "data"


def test_migrations_reach_head_and_a_newer_schema_is_refused(db_url, tmp_path):
    store = open_store(db_url, artifacts=tmp_path / "files")
    with store.engine.begin() as c:
        assert c.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == head_revision()
        tables = set(sa.inspect(c).get_table_names())
        assert {"datasets", "users", "items", "interactions", "runs", "run_epochs", "feedback"} <= tables
        c.execute(sa.text("UPDATE alembic_version SET version_num = '9999_future'"))
    store.close()
    with pytest.raises(DatabaseVersionError, match="newer llmrec"):
        open_store(db_url)


def test_millisecond_timestamps_survive_the_round_trip(any_store, tmp_path):
    from engine.data.dataset import load_dataset
    from engine.ingest import import_files
    p = tmp_path / "ms.csv"
    p.write_text("user,item,timestamp\n1,a,1700000000123\n1,b,1700000000456\n2,a,-5000000000000\n")
    s = import_files(any_store, [p], name="ms")
    ds = load_dataset(any_store, s.dataset_id)
    assert sorted(ds.timestamp.tolist()) == [-5000000000000, 1700000000123, 1700000000456]


def test_cli_on_the_database_url_with_artifacts_folder(db_url, tmp_path, capsys):
    files = tmp_path / "shared-models"
    base = ["--db", db_url, "--artifacts", str(files)]
    assert main([*base, "import", str(DATA / "ml-1m"), "--name", "team", "--quiet"]) == 0
    assert main([*base, "train", "--dataset", "team", "--model", "popularity", "--json"]) == 0
    run_id = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["run_id"]
    assert main([*base, "runs", "--json"]) == 0
    runs = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [(r["id"], r["dataset"], r["status"]) for r in runs] == [(run_id, "team", "done")]
    assert any(files.joinpath("runs").iterdir())            # the model files went to --artifacts
    # a second instance (another engine, as another app would open) sees the dataset and the run
    other = open_store(db_url, artifacts=files)
    try:
        from engine.runs.loaded import load_run
        with other.session() as s:
            assert [d.name for d in repo.list_datasets(s)] == ["team"]
        assert load_run(other, run_id).model is not None
    finally:
        other.close()


def test_two_writers_never_lose_each_others_writes(db_url, tmp_path):
    """Two stores (two engines, as in two app instances) write feedback and runs at the same time,
    and race to create a dataset under one name: every row arrives, the name goes to exactly one."""
    from engine.data.demo import create_demo_dataset
    first = open_store(db_url, artifacts=tmp_path / "files")
    ds_id = create_demo_dataset(first, "shared", n_items=40, n_users=30)
    second = open_store(db_url, artifacts=tmp_path / "files")
    n = 40
    start = threading.Barrier(2)
    outcome: dict[str, object] = {}

    def writer(store, who: int):
        try:
            start.wait()
            for k in range(n):
                with store.session() as s:
                    repo.add_feedback(s, ds_id, who, k, "like")
                with store.session() as s:
                    repo.register_run(s, dataset_id=ds_id, model="popularity", objective=None, config={"w": who},
                                      holdout=False, device="cpu", device_name="", seconds=0.0, metrics={},
                                      artifact_dir=None, epochs=[dict(epoch=1, loss=float(k))])
            start.wait()
            try:
                with store.session() as s:
                    repo.create_dataset(s, "race", source={}, rating_min=None, rating_max=None,
                                        positive_threshold=None)
                outcome[f"w{who}"] = "created"
            except EngineError as exc:
                outcome[f"w{who}"] = str(exc)
        except BaseException as exc:  # noqa: BLE001 - reported below
            outcome[f"error{who}"] = exc

    threads = [threading.Thread(target=writer, args=(st, w)) for w, st in ((0, first), (1, second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert not [v for k, v in outcome.items() if k.startswith("error")], outcome
        with first.session() as s:
            for who in (0, 1):
                assert sorted(i for _, i, *_ in repo.active_feedback(s, ds_id, who)) == list(range(n))
            runs = repo.list_runs(s, ds_id)
            assert sorted(r.config["w"] for r in runs) == [0] * n + [1] * n
            assert all(len(repo.run_epochs(s, r.id)) == 1 for r in runs)
            assert [d.name for d in repo.list_datasets(s)].count("race") == 1
        results = sorted(map(str, (outcome["w0"], outcome["w1"])))
        assert results[0] == "a dataset named 'race' already exists; choose another name"
        assert results[1] == "created"
    finally:
        first.close()
        second.close()


def test_two_processes_opening_a_new_database_at_once_both_succeed(db_url, tmp_path):
    """Both race to migrate a brand-new database: one migrates, the other waits and finds it done."""
    start = threading.Barrier(3)
    errors = []

    def opener():
        try:
            start.wait()
            open_store(db_url, artifacts=tmp_path / "files").close()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=opener) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    store = open_store(db_url, artifacts=tmp_path / "files")
    with store.engine.connect() as c:
        assert c.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all() == [head_revision()]
    store.close()


def test_scaled_demo_and_append_on_both_dialects(any_store, tmp_path):
    from engine.data.dataset import load_dataset
    from engine.data.demo_stream import write_scaled_demo
    from engine.ingest.append import append_files
    write_scaled_demo(any_store, "grow", n_users=40, n_items=60, n_interactions=400)
    before = load_dataset(any_store, "grow")
    assert before.n_interactions == before.info.n_interactions > 0
    p = tmp_path / "more.csv"
    p.write_text("user,item,rating,timestamp\n" + "".join(
        f"{before.user_ids[0]},{before.item_ids[k]},5,{2_000_000_000 + k}\n" for k in range(3)) +
        "newcomer,brand-new,4,2000000100\n")
    append_files(any_store, [p], "grow")
    after = load_dataset(any_store, "grow")
    assert (after.n_users, after.n_items) == (before.n_users + 1, before.n_items + 1)
    assert after.info.n_interactions == after.n_interactions >= before.n_interactions + 1
    with any_store.session() as s:
        assert [d.name for d in repo.list_datasets(s)] == ["grow"]   # the staging dataset is gone
