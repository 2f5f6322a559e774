"""A column mapping saved to a file and reused for the next file of the same shape: JSON (written by
the wizard and `llmrec import --save-mapping`) or TOML (read with the standard library's tomllib).
Keys are the fields of `Mapping`; columns are header names, or 0-based numbers for files without one."""
from __future__ import annotations

import dataclasses
import json
import os
import tomllib
from pathlib import Path

from ..errors import InputError
from .formats import Exclude, Mapping

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


def mapping_from_dict(d: dict, where: str = "mapping") -> dict:
    """Mapping overrides from plain values (lists become tuples, exclude rules become Exclude)."""
    if not isinstance(d, dict):
        raise InputError("a mapping file holds one table of column roles, e.g. {\"user\": \"UserID\"}", path=where)
    unknown = set(d) - FIELDS
    if unknown:
        raise InputError(f"unknown mapping key(s) {', '.join(sorted(unknown))}; expected some of "
                         + ", ".join(sorted(FIELDS)), path=where)
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
        raise InputError(f"cannot read the mapping ({exc})", path=where) from None
    return out


def save_mapping(path: str | os.PathLike, m: Mapping) -> None:
    Path(path).write_text(json.dumps(mapping_to_dict(m), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


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
    except UnicodeDecodeError:
        raise InputError("is not UTF-8 text; expected a JSON or TOML mapping", path=str(p)) from None
    return mapping_from_dict(data, str(p))
