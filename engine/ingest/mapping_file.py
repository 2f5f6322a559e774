"""A column mapping saved to a file and reused for the next file of the same shape: JSON (written by
the wizard and `llmrec import --save-mapping`) or TOML (read with the standard library's tomllib).
Keys are the fields of `Mapping`; columns are header names, or 0-based numbers for files without one."""
from __future__ import annotations

import dataclasses
import json
import math
import os
import tomllib
from pathlib import Path

from engine.errors import InputError, shorten
from engine.ingest.mapping import Exclude, Mapping

FIELDS = {f.name for f in dataclasses.fields(Mapping)}
TUPLES = ("text", "genre_flags", "exclude")


def mapping_to_dict(m: Mapping) -> dict:
    """The mapping as plain JSON values, every field (a None means "no such column", so a reused
    mapping does not fall back to what detection would pick)."""
    out = {}
    for f in dataclasses.fields(Mapping):
        v = getattr(m, f.name)
        out[f.name] = ([dataclasses.asdict(e) for e in v] if f.name == "exclude" else
                       [list(x) if isinstance(x, tuple) else x for x in v] if isinstance(v, tuple) else v)
    return out


COLUMNS = ("user", "item", "rating", "timestamp", "item_id", "title", "description")
SCALE = ("rating_min", "rating_max", "positive_threshold")
EXCLUDE_OPS = ("prefix", "eq", "lt")


def _is_col(v) -> bool:
    """A column: a header name, or a 0-based column number (a bool is not a number here)."""
    return isinstance(v, str) or (type(v) is int and v >= 0)


def _is_number(v) -> bool:
    return type(v) in (int, float) and math.isfinite(v)


def _check_types(d: dict, where: str) -> None:
    """Every key holds what `Mapping` expects, so `{"genres": true}` or `genres_label: 5` is refused
    here, naming the key, instead of being stored with the dataset."""
    def bad(key: str, expected: str):
        v = d[key]
        got = ("a list" if isinstance(v, list) else "a table" if isinstance(v, dict)
               else shorten(json.dumps(v, default=str), quote=False))
        raise InputError(f"mapping key {key!r} must be {expected}, not {got}", path=where)
    col = "a column name or a 0-based column number"
    for key, v in d.items():
        if key in COLUMNS:
            if v is not None and not _is_col(v):
                bad(key, f"{col}, or null")
        elif key == "genres":
            if v is not None and not _is_col(v) and not (isinstance(v, list) and v and all(map(_is_col, v))):
                bad(key, f"{col}, a list of them, or null")
        elif key == "text":
            if v is not None and not (isinstance(v, list) and all(map(_is_col, v))):
                bad(key, f"a list of columns ({col}s)")
        elif key == "genre_flags":
            if v is not None and not (isinstance(v, list) and all(
                    isinstance(x, list) and len(x) == 2 and type(x[0]) is int and x[0] >= 0
                    and isinstance(x[1], str) for x in v)):
                bad(key, "a list of [column number, genre] pairs")
        elif key == "exclude":
            if v is not None and not (isinstance(v, list) and all(
                    isinstance(e, dict) and set(e) == {"column", "op", "value", "reason"} and _is_col(e["column"])
                    and e["op"] in EXCLUDE_OPS and isinstance(e["value"], str) and isinstance(e["reason"], str)
                    for e in v)):
                bad(key, "a list of rules {\"column\", \"op\" (prefix, eq or lt), \"value\", \"reason\"}")
        elif key == "timestamp_format":
            if v not in ("auto", "epoch", "iso"):
                bad(key, "one of \"auto\", \"epoch\", \"iso\"")
        elif key == "skip_missing_user":
            if not isinstance(v, bool):
                bad(key, "true or false")
        elif key == "genre_sep":
            if not isinstance(v, str) or v == "":
                bad(key, "a non-empty text")
        elif key == "genres_label":
            if v is not None and not (isinstance(v, str) and v.strip()):
                bad(key, "a non-empty text, or null")
        elif key in SCALE:
            if v is not None and not _is_number(v):
                bad(key, "a finite number, or null")
    check_scale(d.get("rating_min"), d.get("rating_max"), d.get("positive_threshold"), where=where)


def check_scale(lo, hi, threshold, *, names=SCALE, where: str | None = None) -> None:
    """An inverted rating scale, or a positive threshold outside it, would import data in which no
    rating means what the scale says: refused, naming the values."""
    if lo is not None and hi is not None and lo >= hi:
        raise InputError(f"{names[0]} {lo:g} must be below {names[1]} {hi:g}", path=where)
    if threshold is not None and ((lo is not None and threshold < lo) or (hi is not None and threshold > hi)):
        raise InputError(f"{names[2]} {threshold:g} is outside the rating scale "
                         f"{'?' if lo is None else format(lo, 'g')}-{'?' if hi is None else format(hi, 'g')}",
                         path=where)


def mapping_from_dict(d: dict, where: str = "mapping") -> dict:
    """Mapping overrides from plain values (lists become tuples, exclude rules become Exclude)."""
    if not isinstance(d, dict):
        raise InputError("a mapping file holds one table of column roles, e.g. {\"user\": \"UserID\"}", path=where)
    unknown = set(d) - FIELDS
    if unknown:
        raise InputError(f"unknown mapping key(s) {', '.join(shorten(k, quote=False) for k in sorted(unknown)[:5])}"
                         f"{' and more' if len(unknown) > 5 else ''}; expected some of "
                         + ", ".join(sorted(FIELDS)), path=where)
    _check_types(d, where)
    out = dict(d)
    try:
        if isinstance(out.get("genres"), list):
            out["genres"] = tuple(out["genres"])
        for key in ("text", "genre_flags"):
            if key in out:
                out[key] = tuple(tuple(x) if isinstance(x, list) else x for x in out[key] or ())
        if "exclude" in out:
            out["exclude"] = tuple(Exclude(**e) for e in out["exclude"] or ())
    except (TypeError, ValueError) as exc:
        raise InputError(f"cannot read the mapping ({shorten(str(exc), 200, quote=False)})", path=where) from None
    return out


def mapping_json(m: Mapping) -> str:
    return json.dumps(mapping_to_dict(m), indent=2, ensure_ascii=False) + "\n"


def save_mapping(path: str | os.PathLike, m: Mapping) -> None:
    """Write the mapping as JSON, whole or not at all (a temporary file beside it, then renamed)."""
    write_atomically(path, mapping_json(m))


def write_atomically(path: str | os.PathLike, text: str) -> None:
    """`text` into `path` through a hidden temporary file in the same folder and a rename, so an
    interrupted or failed write never leaves a half file (nor replaces a good one with it)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.part")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def load_mapping(path: str | os.PathLike) -> dict:
    """Mapping overrides read from a JSON or TOML file (by its suffix; JSON otherwise)."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the mapping file ({exc.strerror})", path=str(p)) from None
    try:
        if p.suffix.lower() == ".toml":
            data = tomllib.loads(raw.decode("utf-8"))
        else:
            data = json.loads(raw.decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"is not valid TOML ({exc})", path=str(p)) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"is not valid JSON ({exc.msg})", path=str(p), line=exc.lineno, column=exc.colno) from None
    except RecursionError:
        raise InputError("is nested too deeply; a mapping is one table of column roles, e.g. "
                         "{\"user\": \"UserID\"}", path=str(p)) from None
    except UnicodeDecodeError:
        raise InputError("is not UTF-8 text; expected a JSON or TOML mapping", path=str(p)) from None
    return mapping_from_dict(data, str(p))
