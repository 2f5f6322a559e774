"""Issue 19, sections 3 and 6: a command that fails commits none of its work (side files are checked
before anything is written, written aside and renamed only after the work succeeded), and every rough
edge (a hostile mapping file, an id no row can have, an option out of range, damaged encoder files)
is one short line with the right exit code and an unchanged database."""
from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli.main import main
from engine.tfquiet import is_native_log
from tests.conftest import db_dump

ROOT = Path(__file__).resolve().parents[2]
HUGE = "99999999999999999999999"            # > 2**63 - 1: no row can have it


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    from tests.engine.cli_template import make_template
    folder = tmp_path_factory.mktemp("trust")
    run = make_template(folder, holdout=True)
    return folder, run


@pytest.fixture
def env(template, tmp_path):
    """(folder, db path, csv path, run id) on a private copy of the template database."""
    src, run = template
    shutil.copy(src / "t.db", tmp_path / "t.db")
    shutil.copytree(src / "t.db.files", tmp_path / "t.db.files")
    shutil.copy(src / "r.csv", tmp_path / "r.csv")
    return tmp_path, tmp_path / "t.db", tmp_path / "r.csv", run


def dump(db: Path) -> list[str]:
    class _S:   # db_dump takes a store-like object
        is_sqlite = True

        class engine:
            class url:
                database = str(db)
    return db_dump(_S)


def cli(capsys, db, *argv) -> tuple[int, str, str]:
    code = main(["--db", str(db), *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    lines = [x for x in err.splitlines() if "error" in x.lower()]
    assert len(lines) == 1 and lines[0].startswith("llmrec: error: ") and "Traceback" not in err, err
    assert "internal error" not in lines[0], lines[0]
    return lines[0]


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".part")]


# ---- 3. a failed command commits none of its work ------------------------------------------------

def test_save_mapping_into_a_missing_folder_imports_nothing(env, capsys):
    tmp, db, csv, _ = env
    before = dump(db)
    code, _, err = cli(capsys, db, "import", csv, "--name", "sm", "--save-mapping", tmp / "no" / "such" / "m.json")
    assert code == 2 and "--save-mapping" in one_error_line(err) and "does not exist" in err
    assert dump(db) == before                              # no dataset `sm` behind the error
    code, out, err = cli(capsys, db, "import", csv, "--name", "sm", "--save-mapping", tmp / "m.json")
    assert code == 0 and "already exists" not in err, err  # so a retry just works
    assert json.loads((tmp / "m.json").read_text())["user"] == "userId"


@pytest.mark.parametrize("target", ["folder", "file as folder"])
def test_save_mapping_that_cannot_be_written_is_refused_first(env, capsys, target):
    tmp, db, csv, _ = env
    (tmp / "plain").write_text("x")
    path = tmp if target == "folder" else tmp / "plain" / "m.json"
    before = dump(db)
    code, _, err = cli(capsys, db, "import", csv, "--name", "sm", "--save-mapping", path)
    assert code == 2 and "--save-mapping" in one_error_line(err)
    assert dump(db) == before


def test_a_failed_import_leaves_the_old_mapping_file_alone(env, capsys):
    tmp, db, csv, _ = env
    (tmp / "m.json").write_text('{"user": "old"}\n')
    code, _, err = cli(capsys, db, "import", csv, "--name", "r", "--save-mapping", tmp / "m.json")
    assert code == 2 and "already exists" in one_error_line(err)       # `r` is in the template
    assert (tmp / "m.json").read_text() == '{"user": "old"}\n' and not leftovers(tmp)


def test_save_mapping_with_append_is_written_too(env, capsys):
    tmp, db, csv, _ = env
    code, _, err = cli(capsys, db, "import", csv, "--append", "r", "--save-mapping", tmp / "m.json")
    assert code == 0, err
    assert json.loads((tmp / "m.json").read_text())["item"] == "movieId" and not leftovers(tmp)


def test_saved_mapping_loads_back(env, capsys):
    tmp, db, csv, _ = env
    assert cli(capsys, db, "import", csv, "--name", "a", "--dry-run", "--save-mapping", tmp / "m.json")[0] == 0
    code, _, err = cli(capsys, db, "import", csv, "--name", "b", "--mapping", tmp / "m.json")
    assert code == 0, err


def test_mapping_is_written_whole_or_not_at_all(tmp_path):
    from engine.ingest.mapping_file import write_atomically
    target = tmp_path / "m.json"
    target.write_text("good\n")
    with pytest.raises(UnicodeEncodeError):
        write_atomically(target, "half \udcff")        # fails while writing
    assert target.read_text() == "good\n" and not leftovers(tmp_path)


@pytest.mark.parametrize("argv", [
    ["frontier", "--run", "{run}", "--points", "2", "--csv", "{tmp}/missing/f.csv"],
    ["frontier", "--run", "{run}", "--points", "2", "--csv", "{tmp}"],
    ["recommend", "--run", "{run}", "--out", "{tmp}/missing/rec.csv"],
    ["recommend", "--run", "{run}", "--out", ""],
], ids=["frontier csv missing folder", "frontier csv folder", "recommend out missing folder", "recommend out empty"])
def test_output_files_are_checked_before_the_work(env, capsys, monkeypatch, argv):
    tmp, db, _, run = env
    monkeypatch.setattr("engine.runs.loaded.load_run", lambda *a, **k: pytest.fail("work started before the check"))
    before = dump(db)
    code, _, err = cli(capsys, db, *[a.format(run=run, tmp=tmp) for a in argv])
    assert code == 2 and ("--csv" in one_error_line(err) or "--out" in err)
    assert dump(db) == before


def test_frontier_csv_is_written_aside_then_renamed(env, capsys, monkeypatch):
    tmp, db, _, run = env
    out = tmp / "f.csv"
    out.write_text("old\n")
    monkeypatch.setattr("engine.cli.explore.to_csv", lambda rows: "half \udcff")    # the write fails
    code, _, err = cli(capsys, db, "frontier", "--run", run, "--points", "2", "--csv", out)
    assert code == 1 and out.read_text() == "old\n" and not leftovers(tmp), err
    monkeypatch.undo()
    code, _, err = cli(capsys, db, "frontier", "--run", run, "--points", "2", "--csv", out)
    assert code == 0 and out.read_text().startswith("tradeoff") and not leftovers(tmp), err


def test_feedback_say_takes_back_what_it_recorded_when_it_fails(env, capsys, monkeypatch):
    """A sentence is applied as several feedback rows, one by one: a failure after the first leaves
    the user's feedback as it was."""
    _, db, _, run = env

    class Understood:
        actions = ["like", "like"]

        def describe(self, ds):
            return ["like two items"]

    def apply(u, recs):
        recs.like(0)
        raise OSError(errno.ENOSPC, "No space left on device", "feedback")

    monkeypatch.setattr("engine.cli.language.encoder_by_name", lambda *a, **k: None)
    monkeypatch.setattr("engine.cli.language.understand", lambda *a, **k: Understood())
    monkeypatch.setattr("engine.cli.language.apply", apply)
    before = dump(db)
    code, _, err = cli(capsys, db, "feedback", "say", "--dataset", "r", "--user", "u1", "--run", run, "I like it")
    assert code == 1 and "No space" in one_error_line(err)
    assert dump(db) == before


# ---- 6. rough edges ------------------------------------------------------------------------------

BAD_MAPPINGS = [   # (file content, words the line names)
    ({"genres": True}, "'genres'"),
    ({"genres_label": 5}, "'genres_label'"),
    ({"user": 1.5}, "'user'"),
    ({"item": -1}, "'item'"),
    ({"text": "Title"}, "'text'"),
    ({"skip_missing_user": "yes"}, "'skip_missing_user'"),
    ({"timestamp_format": "unix"}, "'timestamp_format'"),
    ({"genre_sep": ""}, "'genre_sep'"),
    ({"rating_min": "1"}, "'rating_min'"),
    ({"exclude": [{"column": "userId"}]}, "'exclude'"),
    ({"genre_flags": [[1]]}, "'genre_flags'"),
    ({"rating_min": 5, "rating_max": 1}, "rating_min 5 must be below rating_max 1"),
    ({"rating_min": 1, "rating_max": 5, "positive_threshold": 9}, "positive_threshold 9"),
]


@pytest.mark.parametrize("content, words", BAD_MAPPINGS, ids=[json.dumps(c) for c, _ in BAD_MAPPINGS])
def test_mapping_values_of_the_wrong_type_are_refused(env, capsys, content, words):
    tmp, db, csv, _ = env
    (tmp / "m.json").write_text(json.dumps(content))
    before = dump(db)
    code, _, err = cli(capsys, db, "import", csv, "--name", "x", "--mapping", tmp / "m.json")
    line = one_error_line(err)
    assert code == 2 and words in line and "m.json" in line
    assert dump(db) == before


@pytest.mark.parametrize("suffix, text", [
    (".json", "[" * 100_000 + "]" * 100_000),
    (".json", '{"user": ' * 50_000 + "1" + "}" * 50_000),
    (".toml", "a = " + "[" * 100_000 + "]" * 100_000),
], ids=["json list", "json table", "toml"])
def test_deeply_nested_mapping_is_a_usage_error(env, capsys, suffix, text):
    tmp, db, csv, _ = env
    (tmp / f"m{suffix}").write_text(text)
    before = dump(db)
    code, _, err = cli(capsys, db, "import", csv, "--name", "x", "--mapping", tmp / f"m{suffix}")
    assert code == 2 and "nested too deeply" in one_error_line(err)
    assert dump(db) == before


@pytest.mark.parametrize("where", ["mapping value", "mapping key", "option", "choice", "--encoding", "--delimiter",
                                   "--exclude"])
def test_long_values_are_cut_in_error_lines(env, capsys, where):
    tmp, db, csv, _ = env
    long = "x" * 50_000
    argv = ["import", csv, "--name", "x"]
    if where == "mapping value":
        (tmp / "m.json").write_text(json.dumps({"user": long}))
        argv += ["--mapping", tmp / "m.json"]
    elif where == "mapping key":
        (tmp / "m.json").write_text(json.dumps({long: 1}))
        argv += ["--mapping", tmp / "m.json"]
    elif where == "option":
        argv += ["--item", long]
    elif where == "choice":
        argv += ["--format", long]
    else:
        argv += [where, long]
    code, _, err = cli(capsys, db, *argv)
    line = one_error_line(err)
    assert code == 2 and "(50,000 chars)" in line and len(line) < 1000, line[:300]


def test_shorten_keeps_short_values_and_cuts_long_ones():
    from engine.errors import shorten
    assert shorten("abc") == "'abc'" and shorten(7) == "7" and shorten("abc", quote=False) == "abc"
    cut = shorten("y" * 200, 10)
    assert cut == "'yyyyyyyyyy'…(200 chars)"


ID_CASES = [   # argv with an id no row can have; words the line names
    (["evaluate", "--run", HUGE], "no run"),
    (["recommend", "--run", HUGE, "--out", "{tmp}/rec.csv"], "no run"),
    (["frontier", "--run", HUGE], "no run"),
    (["similar", "--run", HUGE, "--item", "i2"], "no run"),
    (["explore", "--run", HUGE], "no run"),
    (["index", "--run", HUGE], "no run"),
    (["quantize", "--run", HUGE], "no run"),
    (["fold-in", "--run", HUGE], "no run"),
    (["train", "--warm-start", HUGE], "no run"),
    (["feedback", "say", "--dataset", "r", "--user", "u1", "--run", HUGE, "hi"], "no run"),
    (["feedback", "undo", "--dataset", "r", "--user", "u1", "--id", HUGE], "no feedback"),
    (["evaluate", "--run", "0"], "no run"),
    (["evaluate", "--run", "-3"], "no run"),
    (["train", "--dataset", HUGE, "--model", "popularity"], "no dataset"),
    (["explore", "--dataset", HUGE], "no dataset"),
    (["train", "--dataset", "²", "--model", "popularity"], "no dataset"),
]


@pytest.mark.parametrize("argv, words", ID_CASES, ids=[" ".join(a[:3]) for a, _ in ID_CASES])
def test_ids_no_row_can_have_are_not_found(env, capsys, argv, words):
    tmp, db, _, _ = env
    before = dump(db)
    code, _, err = cli(capsys, db, *[a.format(tmp=tmp) for a in argv])
    assert code == 2 and words in one_error_line(err), err
    assert dump(db) == before


OPTION_CASES = [   # argv (after the subcommand's required options are filled in); the option named
    (["frontier", "--run", "{run}", "--points", "100000"], "--points"),
    (["frontier", "--run", "{run}", "--points", "1"], "--points"),
    (["train", "--dataset", "r", "--budget", "-5"], "--budget"),
    (["train", "--dataset", "r", "--budget", "0"], "--budget"),
    (["train", "--dataset", "r", "--budget", "nan"], "--budget"),
    (["train", "--dataset", "r", "--trials", "-1"], "--trials"),
    (["train", "--dataset", "r", "--trials", "0"], "--trials"),
    (["train", "--dataset", "r", "--workers", "0"], "--workers"),
    (["train", "--dataset", "r", "--seed", "-1"], "--seed"),
    (["train", "--dataset", "", "--model", "popularity"], "--dataset"),
    (["import", "{csv}", "--rating-min", "5", "--rating-max", "1"], "--rating-min 5 must be below --rating-max 1"),
    (["import", "{csv}", "--rating-min", "1", "--rating-max", "5", "--threshold", "9"], "--threshold"),
    (["import", "{csv}", "--rating-min", "nan"], "--rating-min"),
    (["import", "{csv}", "--threshold", "inf"], "--threshold"),
    (["import", "{csv}", "--name", ""], "--name"),
    (["import", "{csv}", "--name", "   "], "--name"),
    (["import", "{csv}", "--append", ""], "--append"),
    (["import", "{csv}", "--genre-sep", ""], "--genre-sep"),
    (["import", "{csv}", "--genres-label", ""], "--genres-label"),
    (["demo", "--users", "0"], "--users"),
    (["demo", "--items", "-1"], "--items"),
    (["demo", "--interactions", "0"], "--interactions"),
    (["demo", "--seed", "-1"], "--seed"),
    (["demo", "--name", ""], "--name"),
    (["recommend", "--run", "{run}", "--out", "{tmp}/o.csv", "--diversity", "2"], "--diversity"),
    (["recommend", "--run", "{run}", "--out", "{tmp}/o.csv", "--diversity", "nan"], "--diversity"),
    (["recommend", "--run", "{run}", "--out", "{tmp}/o.csv", "--users", ""], "--users"),
    (["explore", "--run", "{run}", "--tradeoff", "-0.1"], "--tradeoff"),
    (["index", "--run", "{run}", "--refine", "0"], "--refine"),
    (["index", "--run", "{run}", "--nlist", "-1"], "--nlist"),
    (["index", "--run", "{run}", "--nprobe", "-1"], "--nprobe"),
    (["index", "--run", "{run}", "--target-recall", "1.5"], "--target-recall"),
    (["index", "--run", "{run}", "--target-recall", "0"], "--target-recall"),
    (["index", "--run", "{run}", "--m", "1"], "--m"),
    (["index", "--run", "{run}", "--ef-construction", "0"], "--ef-construction"),
    (["index", "--run", "{run}", "--ef-search", "0"], "--ef-search"),
    (["encode", "--dataset", "r", "--batch-size", "0"], "--batch-size"),
    (["search", "q", "--dataset", "r", "--k", "0"], "--k"),
    (["feedback", "list", "--dataset", "", "--user", "u1"], "--dataset"),
]


@pytest.mark.parametrize("argv, option", OPTION_CASES, ids=[" ".join(a[2:] if a[0] != "import" else a[2:])
                                                             or a[0] for a, _ in OPTION_CASES])
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_options_out_of_range_are_usage_errors(env, capsys, argv, option, as_json):
    tmp, db, csv, run = env
    before = dump(db)
    argv = [a.format(run=run, tmp=tmp, csv=csv) for a in argv] + (["--json"] if as_json else [])
    code, out, err = cli(capsys, db, *argv)
    line = one_error_line(err)
    assert code == 2 and option in line, line
    if as_json:
        assert json.loads(out.strip().splitlines()[-1])["exit_code"] == 2
    assert dump(db) == before and not (tmp / "o.csv").exists()


def test_points_bound_is_documented():
    from engine.cli.main import build_parser
    text = build_parser()._subparsers._group_actions[0].choices["frontier"].format_help()
    assert "2 to 101" in " ".join(text.split())


# ---- the encoder's files ---------------------------------------------------------------------------

def _damaged_encoder_folder(folder: Path) -> Path:
    from engine.encoder.weights import FILES
    folder.mkdir(exist_ok=True)
    for name in FILES:
        (folder / name).write_bytes(b"not the pinned file")
    return folder


def test_damaged_encoder_weights_exit_1_and_say_to_replace_your_own_file(env, capsys, monkeypatch):
    tmp, db, _, _ = env
    monkeypatch.setenv("LLMREC_ENCODER_DIR", str(_damaged_encoder_folder(tmp / "enc")))
    before = dump(db)
    code, _, err = cli(capsys, db, "encode", "--dataset", "r", "--backend", "numpy", "--encoder", "minilm")
    line = one_error_line(err)
    assert code == 1 and "damaged" in line and "replace it" in line and "fetches it again" not in line, line
    assert dump(db) == before


def test_damaged_fetched_weights_say_delete_to_fetch_again(tmp_path, monkeypatch):
    from engine.encoder.weights import read_verified
    from engine.errors import DataError
    monkeypatch.delenv("LLMREC_ENCODER_DIR", raising=False)
    folder = _damaged_encoder_folder(tmp_path / "cache")
    with pytest.raises(DataError, match="delete the file so llmrec fetches it again") as caught:
        read_verified(folder / "model.safetensors")
    assert caught.value.exit_code == 1


def test_the_keras_encoder_loads_tensorflow_quietly(tmp_path):
    """`llmrec encode` (Keras backend) imports TensorFlow through keras: that goes through the same
    filter as training, so its C++ start-up log stays hidden without --verbose."""
    env = {**os.environ}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    env.pop("LLMREC_VERBOSE", None)
    code = ("from engine.encoder.bert_keras import _layer_class; _layer_class(); "
            "import keras; print(float(keras.ops.sum(keras.ops.ones((2,)))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "2.0"
    assert not [ln for ln in done.stderr.splitlines() if is_native_log(ln)], done.stderr[-2000:]
