"""The `llmrec` command: headless access to everything the app does.

Each group of subcommands lives in its own module under `engine/cli/` and exposes
`register(subparsers)`; every subcommand sets `func(args, store) -> int`."""
from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import re
import sqlite3
import sys
import traceback
from pathlib import Path

from engine.errors import DataError, EngineError, UsageError, shorten
from engine.store import open_store

COMMAND_MODULES = ("engine.cli.data", "engine.cli.models", "engine.cli.explore",
                   "engine.cli.doctor", "engine.cli.retrieval", "engine.cli.language",
                   "engine.cli.simulate")


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (exit code 2), like every other llmrec error."""

    last_error: str | None = None   # the latest usage error, for `--json`

    def error(self, message: str):
        message = re.sub(r"'([^']{81,})'", lambda m: shorten(m.group(1)), message)   # a huge value, cut
        OneLineParser.last_error = f"{_printable(message)} (see `{self.prog} --help`)"
        self.exit(2, f"llmrec: error: {OneLineParser.last_error}\n")


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {shorten(text)}") from None


def at_least(lowest: int, highest: int | None = None):
    """An argparse type: an integer >= `lowest` (and <= `highest` when given; a usage error otherwise)."""
    def parse(text: str) -> int:
        value = _whole(text)
        if value < lowest:
            raise argparse.ArgumentTypeError(f"must be at least {lowest}, not {shorten(value)}")
        if highest is not None and value > highest:
            raise argparse.ArgumentTypeError(f"must be at most {highest}, not {shorten(value)}")
        return value
    parse.__name__ = f"integer >= {lowest}"
    return parse


# What writes to the database: refused before any work when the database is read-only (a 48 s training
# must not end in "attempt to write a readonly database"); everything else works on a read-only file.
WRITING_COMMANDS = {"import", "demo", "train", "fold-in", "quantize"}
WRITING_FEEDBACK = {"like", "dislike", "not_interested", "undo", "say"}


def writes(args) -> bool:
    if args.command == "simulate":   # --list / --show only read
        return not (args.list or args.show is not None)
    if args.command == "feedback":
        return args.action in WRITING_FEEDBACK and not getattr(args, "dry_run", False)
    return args.command in WRITING_COMMANDS


def number(lowest: float | None = None, highest: float | None = None, *, above: float | None = None):
    """An argparse type: a finite number (no nan/inf), >= `lowest`, > `above`, <= `highest` when given."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, not {shorten(text)}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a finite number, not {shorten(text)}")
        if lowest is not None and value < lowest:
            raise argparse.ArgumentTypeError(f"must be at least {lowest:g}, not {value:g}")
        if above is not None and value <= above:
            raise argparse.ArgumentTypeError(f"must be more than {above:g}, not {value:g}")
        if highest is not None and value > highest:
            raise argparse.ArgumentTypeError(f"must be at most {highest:g}, not {value:g}")
        return value
    parse.__name__ = "number"
    return parse


# The shared argparse types of the numeric and naming options (issue 19): a value that means nothing
# (a negative count, a fraction above 1) is a one-line usage error before any work is done.
FRACTION = number(0.0, 1.0)                    # a trade-off or recall in [0, 1]
SEED = at_least(0, 2**32 - 1)                  # NumPy and Keras take seeds in [0, 2**32)
ID_MAX = 2**63 - 1                             # the largest id a database row can have


def record_id(what: str):
    """An argparse type: a run/feedback id; one no row can have (above 2**63-1, or not positive) is
    "no run N" at once instead of an integer overflow inside the database driver."""
    def parse(text: str) -> int:
        value = _whole(text)
        if not 1 <= value <= ID_MAX:
            raise argparse.ArgumentTypeError(f"no {what} {shorten(value)} (ids are whole numbers from 1 "
                                             f"to {ID_MAX})")
        return value
    parse.__name__ = f"{what} id"
    return parse


def name_text(text: str) -> str:
    """An argparse type: a name that is not empty or only spaces (an empty one used to be replaced
    by a default name without a word)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("is empty; give a name, or leave the option out")
    return text


def check_output_file(path: str, option: str) -> Path:
    """Refuse an output file that cannot be written (empty, a folder, in a missing or read-only
    folder) before any work is done, so a command never fails after committing half its work."""
    if not path or not path.strip():
        raise UsageError(f"{option} is empty; give a file name")
    out = Path(path)
    if out.is_dir():
        raise UsageError(f"{option} {path}: is a folder; expected a file name (e.g. {out / 'out.csv'})")
    parent = out.parent
    if not parent.exists():
        raise UsageError(f"{option} {path}: the folder {parent} does not exist")
    if not parent.is_dir():
        raise UsageError(f"{option} {path}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {path}: the folder {parent} is not writable")
    return out


class PendingFile:
    """A side output (`--save-mapping`, `--csv`, `--out`) checked up front, written in full to a
    hidden temporary file beside it, and renamed into place only by `commit()`: a failed command
    leaves neither a half-written file nor a replaced good one."""

    def __init__(self, path: str, option: str) -> None:
        self.path = check_output_file(path, option)
        self.tmp = self.path.with_name(f".{self.path.name}.part")

    def open(self):
        return self.tmp.open("w", newline="", encoding="utf-8")

    def write_text(self, text: str) -> None:
        try:
            with self.open() as fh:
                fh.write(text)
        except BaseException:
            self.discard()
            raise

    def commit(self) -> None:
        try:
            os.replace(self.tmp, self.path)
        except BaseException:
            self.discard()
            raise

    def discard(self) -> None:
        self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> "PendingFile":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="llmrec", description="llmrec: recommender explorer (headless)")
    parser.add_argument("--db", help="database file or SQLAlchemy URL, e.g. postgresql+psycopg://user@host/llmrec "
                        "(default: $LLMREC_DB or the user data dir)")
    parser.add_argument("--artifacts", metavar="DIR", help="folder for model files (default: beside an SQLite "
                        "file; give a shared folder when the database is a PostgreSQL server; $LLMREC_ARTIFACTS)")
    parser.add_argument("--verbose", action="store_true", help="also show TensorFlow's C++ start-up log")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    for action in sub._choices_actions:      # `llmrec X --help` opens with what X does (its one-line help)
        command = sub.choices[action.dest]
        if command.description is None:
            command.description = action.help
    return parser


def add_common(p: argparse.ArgumentParser) -> None:
    """Options every subcommand takes: `--db` (also accepted after the subcommand) and `--json`."""
    p.add_argument("--db", default=argparse.SUPPRESS, help="database file or SQLAlchemy URL")
    p.add_argument("--artifacts", metavar="DIR", default=argparse.SUPPRESS, help="folder for model files")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")


def emit_json(obj) -> None:
    print(json.dumps(obj, default=str))


def main(argv: list[str] | None = None) -> int:
    """Run one command. Every error is one line on stderr (and a JSON object with `--json`):
    exit code 2 for a usage or input problem, 1 for a failure (damaged file, full disk, unusable
    database, a bug), never a traceback (set LLMREC_DEBUG=1 to see one)."""
    for stream in (sys.stdout, sys.stderr):   # file names that are not valid text print escaped
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:   # a trailing free-text argument after options (`feedback say --user U "no horror"`)
            if getattr(args, "text", "") is None and not any(e.startswith("-") for e in extra):
                args.text = " ".join(extra)
            else:
                parser.error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as stop:   # a usage error (one line already printed), or --help
        code = stop.code if isinstance(stop.code, int) else 2
        if code == 2 and "--json" in (sys.argv[1:] if argv is None else argv) and OneLineParser.last_error:
            emit_json({"error": OneLineParser.last_error, "exit_code": 2})
        return code
    if args.verbose:
        os.environ["LLMREC_VERBOSE"] = "1"
    try:
        if args.db is not None and not args.db.strip():
            raise UsageError("--db is empty; give a database file or URL (or leave --db out for the default)")
        store = open_store(args.db, artifacts=args.artifacts)
        try:
            if store.read_only and writes(args):
                raise DataError(f"{store.display_name}: is read-only (the file, its folder or its disk), and "
                                f"`{args.command}` writes to it; nothing was done (read-only commands work)")
            return int(args.func(args, store) or 0)
        finally:
            store.close()
    except KeyboardInterrupt:
        print("llmrec: interrupted", file=sys.stderr)
        return 130
    except BaseException as exc:  # noqa: BLE001 - every error becomes one line
        if isinstance(exc, SystemExit):
            raise
        message, code = describe_error(exc, args.db)
        if os.environ.get("LLMREC_DEBUG"):
            traceback.print_exc()
        if getattr(args, "json", False):
            emit_json({"error": message, "exit_code": code})
        bars = sys.modules.get("engine.cli.models")
        if bars is not None and bars.TextProgress.open_line:   # the error on its own line, below the bar
            bars.TextProgress.open_line = False
            print(file=sys.stderr)
        print(f"llmrec: error: {message}", file=sys.stderr)
        return code


def describe_error(exc: BaseException, db: str | None) -> tuple[str, int]:
    """(one line for the user, exit code) for any exception."""
    where = db or "the database"
    if isinstance(exc, EngineError):
        return _printable(str(exc)), exc.exit_code
    orig = getattr(exc, "orig", None) or exc     # SQLAlchemy wraps the driver's error
    if isinstance(orig, sqlite3.Error):
        text = str(orig)
        low = text.lower()
        if "not a database" in low or "malformed" in low:
            text = f"{where}: is not an llmrec database, or it is damaged ({text})"
        elif "unable to open" in low:
            text = f"{where}: cannot be opened ({text}; is it a folder, or in a missing or read-only folder?)"
        elif "readonly" in low or "read-only" in low:
            text = f"{where}: is read-only; nothing was changed ({text})"
        elif "full" in low:
            text = f"{where}: the disk is full; nothing was changed ({text})"
        elif "locked" in low or "busy" in low:
            text = f"{where}: is busy (another program is writing to it); try again ({text})"
        else:
            text = f"{where}: {text}"
        return _printable(text), 1
    if isinstance(exc, OSError):
        name = exc.filename if exc.filename is not None else where
        return _printable(f"{name}: {exc.strerror or exc}"), 1
    if isinstance(exc, MemoryError):
        return "out of memory", 1
    return _printable(f"internal error: {type(exc).__name__}: {exc} (set LLMREC_DEBUG=1 for the traceback)"), 1


def _printable(text: str) -> str:
    """One line, printable whatever the file names hold (undecodable bytes are escaped)."""
    return " ".join(str(text).split()).encode("utf-8", "backslashreplace").decode("utf-8")


if __name__ == "__main__":
    sys.exit(main())
