"""The `llmrec` command: headless access to everything the app does.

Each group of subcommands lives in its own module under `engine/commands/` and exposes
`register(subparsers)`; every subcommand sets `func(args, store) -> int`."""
from __future__ import annotations

import argparse
import importlib
import json
import sys

from .errors import EngineError

COMMAND_MODULES = ("engine.commands.data", "engine.commands.models", "engine.commands.explore")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="llmrec", description="llmrec: recommender explorer (headless)")
    parser.add_argument("--db", help="database file or SQLAlchemy URL (default: $LLMREC_DB or the user data dir)")
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
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")


def emit_json(obj) -> None:
    print(json.dumps(obj, default=str))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verbose:
        import os
        os.environ["LLMREC_VERBOSE"] = "1"
    from .storage import open_store
    try:
        store = open_store(args.db)
        try:
            return int(args.func(args, store) or 0)
        finally:
            store.close()
    except EngineError as exc:
        if getattr(args, "json", False):
            emit_json({"error": str(exc)})
        print(f"llmrec: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("llmrec: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
