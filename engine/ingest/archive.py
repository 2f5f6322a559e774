"""A .zip of data files (how X-Wines, MovieLens and many Kaggle datasets ship) read as the files inside it.

Which members are used is decided from the archive's directory before anything is written, so a
refusal leaves the disk as it was:
- a recognised dataset (MovieLens, MovieTweetings: u.data, ratings.dat, or two of its known names)
  uses its known files; its own side files (links.csv, users.dat, genome-*...) may go unused;
- anything else uses the largest data file as interactions and the next as items;
- refused, naming the members: two data files with the same name in different folders (names are
  flattened), a data file the import would not use, an archive inside the archive.

Limits (a zip bomb is refused from its directory, before unpacking):
- at most MAX_MEMBERS (1,000) entries: MovieLens 100K, the largest we know, has 24;
- at most MAX_TOTAL_BYTES (16 GiB) unpacked, and no more than the free space of the temporary folder
  less RESERVE_BYTES (1 GiB, room for the import itself); MovieLens 25M unpacks to 1.1 GB;
- beyond RATIO_FLOOR_BYTES (1 GiB) unpacked, at most MAX_RATIO (100) times the archive's size: real
  CSV compresses 3 to 15 times (X-Wines 3.3), a zip bomb a thousand times;
- a member that unpacks to more than its header declares is refused while it is copied.

The used files are unpacked once into <tmp>/llmrec-zip-<uid>/<name>-<key> (key: the archive's path, size and
time), so the wizard's dry run and its import read the same files without unpacking them again. The
unpacking goes into a private `.part-*` folder removed on every exit path. Each process using a
folder holds a shared flock on it; the folder is removed when that process exits if no other holds it,
and any folder no live process holds (a crashed run's) is removed the next time an archive is unpacked.
Without flock (Windows) folders are only removed a day after they were unpacked."""
from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
import time
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from engine.errors import DataError, InputError
from engine.ingest.known_files import FOLDER_ORDER, KNOWN_NAMES, SIDE_FILES, base_name

MAX_MEMBERS = 1000
MAX_TOTAL_BYTES = 16 << 30
RESERVE_BYTES = 1 << 30
MAX_RATIO = 100
RATIO_FLOOR_BYTES = 1 << 30
ROOT: Path | None = None        # where archives are unpacked; None: <tempdir>/llmrec-zip-<uid>

DATA_SUFFIXES = (".csv", ".tsv", ".dat", ".data", ".item", ".txt", ".gz")
# data llmrec cannot read: never ignored silently either
OTHER_DATA_SUFFIXES = (".json", ".jsonl", ".ndjson", ".parquet", ".xlsx", ".xls", ".feather", ".arrow",
                       ".npy", ".npz", ".pkl", ".pickle", ".h5", ".hdf5", ".db", ".sqlite", ".xml", ".avro")
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tgz", ".tar.gz", ".tar.bz2", ".tar.xz", ".tbz2", ".txz", ".7z", ".rar",
                    ".bz2", ".xz", ".zst")
DOC_PREFIXES = ("readme", "license", "licence")
SIDE_EXTRA = {"tags.dat"}      # MovieLens 10M tags: a side file of a recognised dataset


def is_zip(path: Path) -> bool:
    return path.suffix.lower() == ".zip" and path.is_file()


def _flat(member: str) -> str:
    return member.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def _hidden(member: str) -> bool:
    return any(part.startswith((".", "__MACOSX")) for part in member.replace("\\", "/").split("/"))


def _is_archive(name: str) -> bool:
    return name.lower().endswith(ARCHIVE_SUFFIXES)      # (.csv.gz is data: gzip files are read directly)


def _is_data(name: str) -> bool:
    low = name.lower()
    return (low.endswith(DATA_SUFFIXES) and not low.startswith(DOC_PREFIXES) and not _is_archive(low))


def _holds_data(name: str) -> bool:
    """Readable data, or data in a format llmrec cannot read: either must not go unused silently."""
    return _is_data(name) or name.lower().endswith(OTHER_DATA_SUFFIXES)


def _listing(names: list[str], n: int = 5) -> str:
    shown = ", ".join(names[:n])
    return shown + (f" and {len(names) - n:,} more" if len(names) > n else "")


@dataclass(frozen=True)
class _Member:
    info: zipfile.ZipInfo
    name: str          # flattened: the file's name in the unpacked folder

    @property
    def path(self) -> str:
        return self.info.filename


def _plan(zf: zipfile.ZipFile, path: Path) -> tuple[list[_Member], list[_Member]]:
    """(the files the import uses, in order; every member to unpack), or InputError naming what would
    be dropped. Decided from the directory alone."""
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise InputError(f"the archive holds {len(infos):,} members, more than the limit of {MAX_MEMBERS:,}; "
                         "unpack it and give the data files to import", path=str(path))
    members = [_Member(i, _flat(i.filename)) for i in infos
               if not i.is_dir() and not _hidden(i.filename) and _flat(i.filename) not in ("", ".", "..")]
    nested = [m.path for m in members if _is_archive(m.name)]
    if nested:
        raise InputError(f"the archive holds another archive, {_listing(nested)}; unpack it first and give "
                         "the data files inside to import", path=str(path))
    kept = [m for m in members if _holds_data(m.name) or base_name(Path(m.name)) in KNOWN_NAMES]
    seen: dict[str, _Member] = {}
    for m in kept:
        other = seen.setdefault(m.name.lower(), m)
        if other is not m:
            raise InputError(f"the archive holds two files named {m.name} ({other.path} and {m.path}); "
                             "llmrec cannot tell which to import: unpack it and give the file to import",
                             path=str(path))
    data = sorted((m for m in kept if _is_data(m.name)), key=lambda m: (-m.info.file_size, m.name))
    if not data:
        what = f"; it holds {_listing([m.path for m in members])}" if members else ""
        raise InputError("the zip archive holds no data file llmrec reads (" + ", ".join(DATA_SUFFIXES)
                         + f"){what}", path=str(path))
    known = [m for m in data if base_name(Path(m.name)) in KNOWN_NAMES]
    recognised = (bool(known) and any(base_name(Path(m.name)) in ("u.data", "ratings.dat") for m in known)
                  or len(known) > 1)
    if recognised:             # MovieLens-like: the known files, in their usual order (as for a folder)
        used = sorted((m for m in known if base_name(Path(m.name)) in FOLDER_ORDER),
                      key=lambda m: FOLDER_ORDER.index(base_name(Path(m.name))))
        side = set(SIDE_FILES) | KNOWN_NAMES | SIDE_EXTRA
        unused = [m for m in kept if m not in used and base_name(Path(m.name)) not in side]
        extract = [m for m in kept if m in used or base_name(Path(m.name)) in KNOWN_NAMES]   # u.genre too
    else:
        used = data[:2]        # interactions (nearly always the largest), then the items
        unused = [m for m in kept if m not in used]
        extract = used
    if unused:
        role = ("" if recognised else
                "; llmrec imports the largest data file as interactions and the next as items")
        raise InputError(f"the archive holds data the import would not use: {_listing([m.path for m in unused])}"
                         f"{role}; unpack it and give the files to import", path=str(path))
    return used, extract


def _check_size(members: list[_Member], path: Path, root: Path) -> None:
    total = sum(m.info.file_size for m in members)
    free = shutil.disk_usage(root).free
    limit = min(MAX_TOTAL_BYTES, max(0, free - RESERVE_BYTES))
    why = (f"the limit of {_size(MAX_TOTAL_BYTES)}" if limit == MAX_TOTAL_BYTES else
           f"the free space in {root} ({_size(free)}) less {_size(RESERVE_BYTES)} kept free")
    if total > limit:
        raise InputError(f"the archive unpacks to {_size(total)}, more than {why}; unpack it yourself where "
                         "there is room and give the data files to import", path=str(path))
    archive_bytes = path.stat().st_size
    if total > RATIO_FLOOR_BYTES and total > MAX_RATIO * archive_bytes:
        raise InputError(f"the archive unpacks to {_size(total)}, over {MAX_RATIO} times its own size "
                         f"({_size(archive_bytes)}), the limit for archives unpacking to more than "
                         f"{_size(RATIO_FLOOR_BYTES)}: it looks like a zip bomb; unpack it yourself if you "
                         "trust it", path=str(path))


def _size(n: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            return f"{n / (1 << shift):.1f} {unit}"
    return f"{n:,} bytes"


def _copy(zf: zipfile.ZipFile, m: _Member, target: Path, path: Path) -> None:
    """Copy one member, counting bytes: one unpacking to more than its header declares is refused."""
    left = m.info.file_size
    try:
        with zf.open(m.info) as src, open(target, "wb") as dst:
            while True:
                buf = src.read(min(1 << 20, left + 1))
                if not buf:
                    return
                if len(buf) > left:
                    raise InputError(f"{m.path} unpacks to more than the {m.info.file_size:,} bytes its header "
                                     "declares; the archive is damaged or hostile", path=str(path))
                left -= len(buf)
                dst.write(buf)
    except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError) as exc:   # CRC, method, password
        raise InputError(f"cannot unpack {m.path} ({exc})", path=str(path)) from None


# ---- the unpacked folders: who uses them, and cleaning those nobody uses ----------------------------

_HELD: dict[Path, int | None] = {}   # folder -> fd holding its shared lock, for this process's life

try:
    import fcntl
except ImportError:       # no flock (Windows): only folders older than a day are cleaned
    fcntl = None          # type: ignore[assignment]


def root() -> Path:
    user = os.getuid() if hasattr(os, "getuid") else os.getlogin()   # per user: another's folder is not writable
    return ROOT if ROOT is not None else Path(tempfile.gettempdir()) / f"llmrec-zip-{user}"


@contextmanager
def _root_lock(base: Path):
    """Serialises taking and dropping folder locks with cleaning, so a folder is never removed between
    being found and being locked."""
    base.mkdir(parents=True, exist_ok=True)
    if fcntl is None:
        yield
        return
    fd = os.open(base / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _lock(folder: Path, mode: int) -> int | None:
    """An fd holding `mode` on the folder, or None when another process holds a conflicting lock."""
    if fcntl is None:
        return None
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
        return fd
    except OSError:
        os.close(fd)
        return None


def _remove(folder: Path) -> None:
    (folder / ".complete").unlink(missing_ok=True)    # first: a half-removed folder is never reused
    shutil.rmtree(folder, ignore_errors=True)


def _clean(base: Path) -> None:
    """Remove the folders no live process holds (call under the root lock)."""
    for folder in base.iterdir():
        if not folder.is_dir() or folder in _HELD:
            continue
        if fcntl is None:
            if time.time() - folder.stat().st_mtime > 86400:
                _remove(folder)
            continue
        try:
            fd = _lock(folder, fcntl.LOCK_EX)
        except OSError:
            continue
        if fd is not None:
            try:
                _remove(folder)
            finally:
                os.close(fd)


def release_all() -> None:
    """Drop this process's folders, removing each no other process holds (at exit; tests)."""
    if not _HELD:
        return
    with _root_lock(root()):
        for folder, fd in list(_HELD.items()):
            del _HELD[folder]
            if fd is not None:
                os.close(fd)
            if fcntl is None:          # cannot tell whether another process uses it: left for a day
                continue
            try:
                mine = _lock(folder, fcntl.LOCK_EX)
            except OSError:
                continue
            if mine is not None:
                try:
                    _remove(folder)
                finally:
                    os.close(mine)


atexit.register(release_all)


def _reuse(out: Path) -> bool:
    """Hold `out` if it is a complete unpacking (call under the root lock)."""
    if out in _HELD:
        return (out / ".complete").exists()
    if not (out / ".complete").exists():
        return False
    fd = _lock(out, fcntl.LOCK_SH) if fcntl is not None else None
    if fcntl is not None and fd is None:      # being removed right now: unpack again
        return False
    _HELD[out] = fd
    return True


def zip_files(path: Path) -> list[Path]:
    """The archive's files to import, in order (interactions first), unpacked; InputError naming the
    archive and the members when it cannot be imported as it is."""
    st = path.stat()
    key = hashlib.sha1(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:16]
    base = root()
    out = base / f"{path.stem}-{key}"
    try:
        with zipfile.ZipFile(path) as zf:
            used, extract = _plan(zf, path)
            with _root_lock(base):
                if _reuse(out):
                    return [out / m.name for m in used]
                _clean(base)
                _check_size(extract, path, base)
                tmp = Path(tempfile.mkdtemp(prefix=out.name + ".part-", dir=base))
                fd = _lock(tmp, fcntl.LOCK_EX) if fcntl is not None else None
            try:
                for m in extract:
                    _copy(zf, m, tmp / m.name, path)
                (tmp / ".complete").touch()
                with _root_lock(base):
                    if _reuse(out):            # another process finished the same archive first
                        _remove(tmp)
                    else:
                        _remove(out)           # an incomplete leftover nobody holds
                        tmp.rename(out)
                        if fd is not None:
                            fcntl.flock(fd, fcntl.LOCK_SH)   # safe: cleaning waits for the root lock
                        stale = _HELD.pop(out, None)     # ours, emptied by hand since: re-unpacked
                        if stale is not None:
                            os.close(stale)
                        _HELD[out], fd = fd, None
            finally:
                if fd is not None:
                    os.close(fd)
                if tmp.exists():
                    _remove(tmp)
    except zipfile.BadZipFile as exc:
        raise InputError(f"is not a valid zip archive ({exc})", path=str(path)) from None
    except OSError as exc:
        raise DataError(f"{path}: cannot unpack the archive into {base} ({exc.strerror or exc})") from None
    return [out / m.name for m in used]
