"""Where llmrec keeps its files by default (platformdirs), overridable with LLMREC_DB."""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

import platformdirs

from engine.errors import DataError

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
    """Accept a plain file path, an SQLite `file:` URI (of an existing file, e.g. `file:/x/a.db?mode=ro`)
    or any SQLAlchemy URL."""
    if "://" in path_or_url and not path_or_url.startswith("file:"):
        return path_or_url
    if path_or_url.startswith("file:"):
        return _file_uri(path_or_url)
    try:
        path = Path(path_or_url).expanduser().resolve()
    except (RuntimeError, OSError) as exc:   # a symlink loop, an unreadable folder
        raise DataError(f"{path_or_url}: cannot be used as the database ({exc})") from None
    if path.is_dir():
        raise DataError(f"{path_or_url}: is a folder; expected a database file (e.g. {path / 'llmrec.db'})")
    return "sqlite:///" + str(path)


def _file_uri(uri: str) -> str:
    """`file:PATH[?query]` as SQLAlchemy's SQLite URI form. It must name an existing file: SQLite would
    otherwise make an empty database (or llmrec a folder named `file:`) and report "no datasets"."""

    parts = urlsplit(uri)
    if parts.netloc not in ("", "localhost"):
        raise DataError(f"{uri}: a file: URI must name a file on this machine (file:/path/to/llmrec.db)")
    path = Path(unquote(parts.path)).expanduser()
    if not path.is_file():
        raise DataError(f"{uri}: no database file at {path}; a file: URI opens an existing SQLite file "
                        "(give a plain path to create one)")
    query = parts.query
    return f"sqlite:///file:{parts.path}?{query + '&' if query else ''}uri=true"
