"""`llmrec import`, `llmrec datasets`, `llmrec demo` through engine.cli.main.main: exit codes, one-line errors,
JSON for scripts."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.cli.data import parse_exclude
from engine.cli.main import main
from engine.errors import InputError

DATA = Path(__file__).resolve().parents[1] / "data"


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_import_prints_a_summary_and_datasets_lists_it(tmp_path, capsys):
    db = str(tmp_path / "cli.db")
    code, out, _ = run(capsys, "--db", db, "import", str(DATA / "ml-1m"), "--name", "one")
    assert code == 0
    assert "Imported dataset 'one'" in out and "users 3  items 4  interactions 7" in out
    assert "collapsed to the latest: 1" in out and "skipped: none" in out
    code, out, _ = run(capsys, "datasets", "--db", db)
    assert code == 0 and "one" in out and "1-5 (>= 4)" in out
    code, out, _ = run(capsys, "datasets", "--db", db, "--json")
    rows = json.loads(out)
    assert [(r["name"], r["n_interactions"], r["format"]) for r in rows] == [("one", 7, "movielens")]


def test_import_with_mapping_options_json(tmp_path, capsys):
    db = str(tmp_path / "cli.db")
    code, out, _ = run(capsys, "import", str(DATA / "generic" / "retail.csv"), "--db", db, "--json",
                       "--user", "CustomerID", "--item", "2", "--title", "Description",
                       "--timestamp", "InvoiceDate", "--skip-missing-user", "--exclude", "cancellation:InvoiceNo^=C")
    assert code == 0
    s = json.loads(out)
    assert s["skipped"] == {"missing user": 1, "cancellation": 1}
    assert (s["n_users"], s["n_items"], s["n_interactions"], s["duplicates"]) == (2, 2, 3, 1)
    assert s["rating_min"] is None and s["name"] == "retail"


def test_bad_input_exits_non_zero_with_one_specific_line(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("user,item,rating\n1,2,3\n1,3,lots\n")
    db = str(tmp_path / "cli.db")
    code, out, err = run(capsys, "--db", db, "import", str(bad))
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0] == (f"llmrec: error: {bad}, line 3, column 'rating': expected a number for the rating, "
                        f"found 'lots'")
    code, out, err = run(capsys, "--db", db, "import", str(bad), "--json")
    assert code == 2 and "line 3" in json.loads(out)["error"]
    code, out, _ = run(capsys, "--db", db, "datasets", "--json")
    assert json.loads(out) == []


def test_dry_run_and_unknown_item_drop(tmp_path, capsys):
    db = str(tmp_path / "cli.db")
    r = tmp_path / "ratings.dat"
    r.write_text("1::10::5::100\n2::99::4::102\n")
    (tmp_path / "movies.dat").write_text("10::Ten (2000)::Drama\n")
    code, _, err = run(capsys, "--db", db, "import", str(r))
    assert code == 2 and "unknown item id '99'" in err
    code, out, _ = run(capsys, "--db", db, "import", str(r), "--on-unknown-item", "drop", "--dry-run")
    assert code == 0 and "Dry run, nothing written" in out and "unknown item: 1" in out
    code, out, _ = run(capsys, "--db", db, "datasets")
    assert "no datasets yet" in out


def test_demo_creates_once(tmp_path, capsys, monkeypatch):
    import engine.cli.data as cli_data
    real = cli_data.create_demo_dataset
    monkeypatch.setattr(cli_data, "create_demo_dataset",
                        lambda store, **kw: real(store, **{"n_users": 60, "n_items": 80, **kw}))
    db = str(tmp_path / "cli.db")
    code, out, _ = run(capsys, "--db", db, "demo")
    assert code == 0 and "created" in out and "users 60" in out
    code, out, _ = run(capsys, "--db", db, "demo", "--json")
    assert code == 0 and json.loads(out)["created"] is False


def test_exclude_rule_parsing():
    e = parse_exclude("cancellation:InvoiceNo^=C")
    assert (e.column, e.op, e.value, e.reason) == ("InvoiceNo", "prefix", "C", "cancellation")
    e = parse_exclude("Quantity<0")
    assert (e.column, e.op, e.value, e.reason) == ("Quantity", "lt", "0", "Quantity below 0")
    assert parse_exclude("3==POST").column == 2
    with pytest.raises(InputError):
        parse_exclude("Quantity<none")
    with pytest.raises(InputError):
        parse_exclude("nothing here")


def test_forced_delimiter_header_and_encoding(tmp_path, capsys):
    f = tmp_path / "odd.txt"
    f.write_bytes("name;thing\nZoë;x\nAnn;y\n".encode("latin-1"))
    db = str(tmp_path / "cli.db")
    code, out, _ = run(capsys, "--db", db, "import", str(f), "--no-header", "--delimiter", "semicolon",
                       "--encoding", "latin-1", "--json")
    assert code == 0 and json.loads(out)["n_users"] == 3 and json.loads(out)["n_interactions"] == 3
    code, _, err = run(capsys, "--db", db, "import", str(f), "--encoding", "klingon", "--name", "k")
    assert code == 2 and "unknown text encoding" in err
    code, _, err = run(capsys, "--db", db, "import", str(f), "--delimiter", "#", "--name", "k")
    assert code == 2 and "unsupported delimiter" in err
