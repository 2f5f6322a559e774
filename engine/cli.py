"""The `llmrec` command: headless access to everything the app does.

Each group of subcommands lives in its own module under `engine/commands/` and exposes
`register(subparsers)`; every subcommand sets `func(args, store) -> int`."""
from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import traceback

from .errors import EngineError, UsageError

COMMAND_MODULES = ("engine.commands.data", "engine.commands.models", "engine.commands.explore",
                   "engine.commands.doctor", "engine.commands.scale", "engine.commands.language")


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (exit code 2), like every other llmrec error."""

    last_error: str | None = None   # the latest usage error, for `--json`

    def error(self, message: str):
        OneLineParser.last_error = f"{_printable(message)} (see `{self.prog} --help`)"
        self.exit(2, f"llmrec: error: {OneLineParser.last_error}\n")


def at_least(lowest: int):
    """An argparse type: an integer >= `lowest` (a usage error otherwise)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
        if value < lowest:
            raise argparse.ArgumentTypeError(f"must be at least {lowest}, not {value}")
        return value
    parse.__name__ = f"integer >= {lowest}"
    return parse


# What writes to the database: refused before any work when the database is read-only (a 48 s training
# must not end in "attempt to write a readonly database"); everything else works on a read-only file.
WRITING_COMMANDS = {"import", "demo", "train", "fold-in", "quantize"}
WRITING_FEEDBACK = {"like", "dislike", "not_interested", "undo", "say"}


def writes(args) -> bool:
    if args.command == "feedback":
        return args.action in WRITING_FEEDBACK and not getattr(args, "dry_run", False)
    return args.command in WRITING_COMMANDS


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="llmrec", description="llmrec: recommender explorer (headless)")
    parser.add_argument("--db", help="database file or SQLAlchemy URL, e.g. postgresql+psycopg://user@host/llmrec "
                        "(default: $LLMREC_DB or the user data dir)")
    parser.add_argument("--artifacts", metavar="DIR", help="folder for model files (default: beside an SQLite "
                        "file; give a shared folder when the database is a PostgreSQL server; $LLMREC_ARTIFACTS)")
    parser.add_argument("--verbose", action="store_true", help="also show TensorFlow's C++ start-up log")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # a command group not built yet
            raise
        module.register(sub)
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
    from .storage import open_store
    try:
        if args.db is not None and not args.db.strip():
            raise UsageError("--db is empty; give a database file or URL (or leave --db out for the default)")
        store = open_store(args.db, artifacts=args.artifacts)
        try:
            if store.read_only and writes(args):
                from .errors import DataError
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
        print(f"llmrec: error: {message}", file=sys.stderr)
        return code


def describe_error(exc: BaseException, db: str | None) -> tuple[str, int]:
    """(one line for the user, exit code) for any exception."""
    import sqlite3
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
