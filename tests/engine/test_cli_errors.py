"""Every failure of the `llmrec` command is one line (exit code 2 for usage or input, 1 for a
failure), never a traceback, and leaves the database unchanged (issue 8, section 5). Add a row here
for each new command or failure mode."""
from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from engine.cli.main import main
from tests.conftest import db_dump


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    from tests.engine.cli_template import make_template
    folder = tmp_path_factory.mktemp("clierr")
    run = make_template(folder, holdout=False)
    return folder / "t.db", run


@pytest.fixture
def env(template, tmp_path):
    src, run = template
    db = tmp_path / "t.db"
    shutil.copy(src, db)
    shutil.copytree(src.with_name(src.name + ".files"), tmp_path / "t.db.files")
    return tmp_path, db, run


def _model_dir(db):
    return next((db.with_name(db.name + ".files") / "runs").iterdir())


def _disk_full(*_a, **_k):
    from sqlalchemy.exc import OperationalError
    raise OperationalError("INSERT", {}, sqlite3.OperationalError("database or disk is full"))


def _no_space(*_a, **_k):
    raise OSError(errno.ENOSPC, "No space left on device", "model.npz")


def _setup(case, tmp, db, monkeypatch):
    """Prepare the case; returns the --db value."""
    if case == "truncated":
        data = db.read_bytes()
        db.write_bytes(data[:1000])
        for p in tmp.glob("t.db-*"):
            p.unlink()
    elif case == "garbage":
        db.write_bytes(os.urandom(8192))
    elif case == "not a database":
        db.write_text("userId,movieId\n1,2\n" * 500)
    elif case == "folder":
        return str(tmp)
    elif case == "read-only":
        return f"sqlite:///file:{db}?mode=ro&uri=true"
    elif case == "symlink loop":
        os.symlink(tmp / "loop-b", tmp / "loop-a")
        os.symlink(tmp / "loop-a", tmp / "loop-b")
        return str(tmp / "loop-a")
    elif case == "disk full: demo":
        monkeypatch.setattr("engine.data.demo.write_dataset", _disk_full)
    elif case == "disk full: train":
        monkeypatch.setattr("engine.models.popularity.PopularityRecommender.save", _no_space)
    elif case == "disk full: feedback":
        monkeypatch.setattr("engine.store.repository.add_feedback", _disk_full)
    elif case == "corrupt model.npz":
        (_model_dir(db) / "model.npz").write_bytes(b"PK\x03\x04 not really")
    elif case == "swapped model.json":
        (_model_dir(db) / "model.json").write_text('{"model": "lstm", "params": {}}')
    elif case in ("model missing: explore", "model missing: similar"):
        (_model_dir(db) / "model.npz").unlink()
    elif case == "non-UTF-8 file name":
        bad = os.fsdecode(b"\xff\xfe-ratings.csv")
        with open(os.path.join(tmp, bad), "w") as f:
            f.write("userId,movieId,rating\n1,2,x\n")
    elif case == "empty --db":
        return ""
    return str(db)


CASES = [  # (case, argv after --db, exit code, words the line names)
    ("truncated", ["datasets"], 1, "database"),
    ("garbage", ["datasets"], 1, "database"),
    ("not a database", ["datasets"], 1, "database"),
    ("folder", ["datasets"], 1, "folder"),
    ("read-only", ["feedback", "like", "--dataset", "r", "--user", "u1", "--item", "i2"], 1, "read-only"),
    ("symlink loop", ["datasets"], 1, "loop"),
    ("disk full: demo", ["demo"], 1, "full"),
    ("disk full: train", ["train", "--dataset", "r", "--model", "popularity"], 1, "No space"),
    ("disk full: feedback", ["feedback", "like", "--dataset", "r", "--user", "u1", "--item", "i2"], 1, "full"),
    ("corrupt model.npz", ["explore", "--run", "{run}", "--user", "u1"], 1, "damaged"),
    ("swapped model.json", ["explore", "--run", "{run}", "--user", "u1"], 1, "damaged"),
    ("model missing: explore", ["explore", "--run", "{run}", "--user", "u1"], 1, "missing"),
    ("model missing: similar", ["similar", "--run", "{run}", "--item", "i2"], 1, "missing"),
    ("non-UTF-8 file name", ["import", "{tmp}/\udcff\udcfe-ratings.csv"], 2, "ratings.csv"),
    ("similar --n -1", ["similar", "--run", "{run}", "--item", "i2", "--n", "-1"], 2, "--n"),
    ("frontier --k -1", ["frontier", "--run", "{run}", "--k", "-1"], 2, "--k"),
    ("frontier --candidates 0", ["frontier", "--run", "{run}", "--candidates", "0"], 2, "--candidates"),
    ("explore --k -1", ["explore", "--run", "{run}", "--user", "u1", "--k", "-1"], 2, "--k"),
    ("train --epochs 0", ["train", "--dataset", "r", "--model", "lstm", "--epochs", "0"], 2, "--epochs"),
    ("train --epochs -1", ["train", "--dataset", "r", "--model", "lstm", "--epochs", "-1"], 2, "--epochs"),
    ("empty --db", ["datasets"], 2, "--db"),
    ("evaluate --run 1e23", ["evaluate", "--run", "99999999999999999999999"], 2, "no run"),
    ("frontier --points 100000", ["frontier", "--run", "{run}", "--points", "100000"], 2, "--points"),
    ("train --budget -5", ["train", "--dataset", "r", "--budget", "-5"], 2, "--budget"),
    ("demo --users 0", ["demo", "--users", "0"], 2, "--users"),
    ("recommend --out missing folder", ["recommend", "--run", "{run}", "--out", "{tmp}/no/r.csv"], 2, "--out"),
]


@pytest.mark.parametrize("case, argv, code, words", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_every_error_is_one_line(env, monkeypatch, capsys, case, argv, code, words, as_json):
    tmp, db, run = env
    db_arg = _setup(case, tmp, db, monkeypatch)
    before = db.read_bytes() if db.exists() else None
    dump = _dump(db)
    argv = [a.format(run=run, tmp=tmp) for a in argv]
    got = main(argv + ["--db", db_arg] + (["--json"] if as_json and not argv[0].startswith("-") else []))
    assert not (Path.cwd() / "file:").exists()          # a `file:` URI never becomes a folder here
    out, err = capsys.readouterr()
    lines = [x for x in err.splitlines() if "error" in x.lower()]   # (progress bars may come first)
    assert got == code, err
    assert len(lines) == 1 and lines[0].startswith("llmrec: error: ") and "Traceback" not in err, err
    assert words in lines[0], lines[0]
    if as_json:
        reply = json.loads(out.strip().splitlines()[-1])
        assert reply["error"] in lines[0] and reply["exit_code"] == code
    if dump is not None:
        assert _dump(db) == dump                         # the database is unchanged
    elif before is not None and db.exists():
        assert db.read_bytes() == before


def _dump(db):
    try:
        class _S:  # db_dump takes a store-like object
            is_sqlite = True

            class engine:
                class url:
                    database = str(db)
        return db_dump(_S)
    except sqlite3.DatabaseError:
        return None
