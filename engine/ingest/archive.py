"""A .zip of data files (how X-Wines and many Kaggle datasets ship) read as the files inside it:
extracted once to a temporary folder keyed by the archive's path, size and time, so the wizard's dry
run and its import (and a repeated CLI import) read the same files without unpacking them again."""
from __future__ import annotations

import hashlib
import shutil
import tempfile
import zipfile
from pathlib import Path

from ..errors import InputError

MAX_MEMBER_BYTES = 20 << 30


def is_zip(path: Path) -> bool:
    return path.suffix.lower() == ".zip" and path.is_file()


def extract_zip(path: Path) -> Path:
    """The folder holding the archive's data files (hidden files and folders dropped, names flattened)."""
    st = path.stat()
    key = hashlib.sha1(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:16]
    out = Path(tempfile.gettempdir()) / "llmrec-zip" / f"{path.stem}-{key}"
    if (out / ".complete").exists():
        return out
    tmp = out.with_name(out.name + ".part")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        with zipfile.ZipFile(path) as zf:
            members = [i for i in zf.infolist() if not i.is_dir() and not any(
                part.startswith((".", "__MACOSX")) for part in Path(i.filename).parts)]
            if not members:
                raise InputError("the zip archive holds no data file", path=str(path))
            for info in members:
                if info.file_size > MAX_MEMBER_BYTES:
                    raise InputError(f"{info.filename} is too large to unpack ({info.file_size:,} bytes)",
                                     path=str(path))
                target = tmp / Path(info.filename).name       # flattened: no path leaves the folder
                with zf.open(info) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
    except zipfile.BadZipFile as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise InputError(f"is not a valid zip archive ({exc})", path=str(path)) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    (tmp / ".complete").touch()
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out


DATA_SUFFIXES = (".csv", ".tsv", ".dat", ".data", ".item", ".txt", ".gz")


def data_files(folder: Path) -> list[Path]:
    """The extracted data files (no README or licence), largest first: the interactions file is nearly
    always the largest."""
    return sorted((p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")
                   and p.name.lower().endswith(DATA_SUFFIXES)
                   and not p.name.lower().startswith(("readme", "license", "licence"))),
                  key=lambda p: (-p.stat().st_size, p.name))
