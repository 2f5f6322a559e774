"""The CLI's newcomer frictions: a MovieLens side file (u.genre, u.user) is refused as interactions
with a message saying what it is (before any name clash), and TensorFlow's C++ start-up log is shown
only with --verbose."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from engine.cli.main import main
from engine.tfquiet import is_native_log

DATA = Path(__file__).resolve().parents[1] / "data"
ROOT = Path(__file__).resolve().parents[2]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_side_files_are_refused_with_what_they_are(tmp_path, capsys):
    db = str(tmp_path / "cli.db")
    code, out, err = run(capsys, "--db", db, "import", str(DATA / "ml-100k" / "u.genre"), "--name", "g")
    assert code == 2 and "u.genre is the MovieLens 100K genre list, not interactions" in err and "u.data" in err
    code, _, _ = run(capsys, "--db", db, "datasets", "--json")
    assert run(capsys, "--db", db, "datasets", "--json")[1].strip() == "[]"       # nothing was imported
    # u.user without --name: the unsuitable file is reported, not a clash with an existing dataset name
    folder = tmp_path / "ml-100k"
    shutil.copytree(DATA / "ml-100k", folder)
    (folder / "u.user").write_text("1|24|M|technician|85711\n2|53|F|other|94043\n", encoding="latin-1")
    assert run(capsys, "--db", db, "import", str(folder))[0] == 0                  # the folder: u.data + u.item
    code, _, err = run(capsys, "--db", db, "import", str(folder / "u.user"))
    assert code == 2 and "user table" in err and "already exists" not in err


def test_native_log_lines_are_recognised():
    assert is_native_log("I0000 00:00:1796189917.931477   17503 port.cc:153] oneDNN custom operations are on.")
    assert is_native_log("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR")
    assert is_native_log("E0000 00:00:1796189917.9 1 cuda_dnn.cc:8310] Unable to register cuDNN factory")
    assert not is_native_log("Traceback (most recent call last):")
    assert not is_native_log("llmrec: error: no dataset 'x' in this database")


def test_tensorflow_log_noise_only_with_verbose(tmp_path):
    env = {**os.environ}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    env.pop("LLMREC_VERBOSE", None)
    quiet = subprocess.run([sys.executable, "-m", "engine.cli.main", "--db", str(tmp_path / "x.db"), "devices"],
                           capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    assert quiet.returncode == 0, quiet.stderr[-2000:]
    assert quiet.stdout.startswith("cpu: ")
    assert not [ln for ln in quiet.stderr.splitlines() if is_native_log(ln)], quiet.stderr[-2000:]
    assert "oneDNN" not in quiet.stderr and "absl" not in quiet.stderr


def test_cli_progress_names_the_training_phase():
    import io

    from engine.cli.models import TextProgress
    from engine.types import EpochStats
    out = io.StringIO()
    bar = TextProgress(out)
    bar(EpochStats(epoch=3, epochs=6, loss=1.0, phase="epoch", phase_epoch=3, phase_epochs=3))
    bar(EpochStats(epoch=6, epochs=6, loss=0.9, phase="refit", phase_epoch=3, phase_epochs=3))
    text = out.getvalue()
    assert "epoch 3/3" in text and "refit 3/3" in text and "/6" not in text


def test_every_command_and_argument_says_what_it_is():
    """Issue 22: `llmrec search --help` did not describe its arguments. Every command has a description
    and every argument a help text (so `llmrec X --help` explains X)."""
    import argparse

    from engine.cli.main import build_parser

    def walk(parser, path):
        for a in parser._actions:
            if isinstance(a, argparse._SubParsersAction):
                for name, sp in a.choices.items():
                    yield from walk(sp, [*path, name])
            elif a.help is None and not isinstance(a, argparse._HelpAction):
                yield " ".join(path), a.option_strings or a.dest
        if path and not parser.description:
            yield " ".join(path), "(no description)"

    assert list(walk(build_parser(), [])) == []
    text = build_parser()._subparsers._group_actions[0].choices["search"].format_help()
    assert "find items" in text and "--k" in text and "how many results" in text
