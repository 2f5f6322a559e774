"""Where llmrec keeps its files by default (platformdirs), overridable with LLMREC_DB."""
from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "llmrec"


def user_data_dir() -> Path:
    path = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_db_url() -> str:
    """`LLMREC_DB` (a file path or SQLAlchemy URL) or `<user data dir>/llmrec.db`."""
    env = os.environ.get("LLMREC_DB")
    if env:
        return to_url(env)
    return to_url(str(user_data_dir() / "llmrec.db"))


def to_url(path_or_url: str) -> str:
    """Accept a plain file path or any SQLAlchemy URL."""
    if "://" in path_or_url:
        return path_or_url
    try:
        path = Path(path_or_url).expanduser().resolve()
    except (RuntimeError, OSError) as exc:   # a symlink loop, an unreadable folder
        from .errors import DataError
        raise DataError(f"{path_or_url}: cannot be used as the database ({exc})") from None
    if path.is_dir():
        from .errors import DataError
        raise DataError(f"{path_or_url}: is a folder; expected a database file (e.g. {path / 'llmrec.db'})")
    return "sqlite:///" + str(path)
