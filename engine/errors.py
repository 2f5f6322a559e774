"""Errors the engine raises, with messages written for the person using the app or CLI."""
from __future__ import annotations


def shorten(value: object, limit: int = 80, *, quote: bool | None = None) -> str:
    """A user-given value as quoted in an error message (repr for text, unless `quote` is False), cut
    to `limit` characters with its length: a 50 MB column name must not become a 50 MB error line."""
    text = value if isinstance(value, str) else str(value)
    quote = isinstance(value, str) if quote is None else quote
    cut = len(text) > limit
    head = text[:limit] if cut else text
    head = repr(head) if quote else head
    return f"{head}…({len(text):,} chars)" if cut else head


class EngineError(Exception):
    """Base class: anything the engine reports to a user (one clear sentence). `exit_code` is what
    the CLI exits with: 2 for a request that cannot be done as asked (usage, bad input), 1 for a
    failure (a damaged file, a full disk, an unusable database)."""
    exit_code = 2


class UsageError(EngineError):
    """A command-line option out of range, or a wrong kind of path."""


class DataError(EngineError):
    """A file or database that is damaged, missing or cannot be written."""
    exit_code = 1


class CancelledError(EngineError):
    """Long work was cancelled by the user; nothing was written."""

    def __init__(self, message: str = "cancelled by the user; nothing was changed"):
        super().__init__(message)


class InputError(EngineError):
    """A bad input file, with where the problem is."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 column: str | int | None = None):
        self.path, self.line, self.column, self.reason = path, line, column, message
        where = []
        if path is not None:
            where.append(str(path))
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {shorten(column)}" if isinstance(column, str) else f"column {column}")
        super().__init__((", ".join(where) + ": " if where else "") + message)


class DatabaseVersionError(EngineError):
    """The database was written by a newer llmrec than this one."""


class NotFoundError(EngineError):
    """A dataset, run or user that does not exist."""
