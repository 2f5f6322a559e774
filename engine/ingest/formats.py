"""Recognising what the given files are, so the wizard and `llmrec import` need no options for
MovieLens, MovieTweetings or CSV files with the usual column names: `detect_format` expands folders
and archives, picks the known layout or suggests a generic mapping (column roles from names and
content), and `with_mapping` applies the user's choices. Sniffing one file is engine.ingest.sniff;
the known layouts are engine.ingest.movielens."""
from __future__ import annotations

import codecs
import dataclasses
import os
from pathlib import Path
from typing import Sequence

from engine.errors import InputError, shorten
from engine.ingest.archive import is_zip, zip_files
from engine.ingest.detected import DetectedFormat, FileSniff
from engine.ingest.known_files import (
    FOLDER_ORDER,
    KNOWN_INTERACTIONS,
    KNOWN_NAMES,
    base_name,
    refuse_side_file,
    sibling,
)
from engine.ingest.mapping import USUAL, Col, Mapping, norm
from engine.ingest.movielens import dat_format, movielens_100k
from engine.ingest.roles import (
    is_id,
    is_user_id,
    item_candidates,
    profile_columns,
    shared_id_columns,
    suggest_item_roles,
)
from engine.ingest.scales import guess_scale
from engine.ingest.sniff import is_number, sniff_file
from engine.ingest.textio import DELIMITERS, describe_delimiter

FORMATS = ("auto", "movielens-100k", "movielens", "movietweetings", "csv")


def expand_paths(paths: Sequence[str | os.PathLike]) -> list[Path]:
    """Paths as given; a folder stands for the known files inside it; a .zip for the files inside it
    (the known ones in their usual order, else the largest first)."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if is_zip(p):
            out.extend(zip_files(p))
        elif p.is_dir():
            found = sorted(c for c in p.iterdir() if c.is_file() and base_name(c) in KNOWN_NAMES)
            if not found:
                raise InputError("this folder holds no file llmrec recognises (u.data, ratings.dat, ratings.csv...); "
                                 "give the interactions file itself", path=str(p))
            out.extend(sorted((c for c in found if base_name(c) in FOLDER_ORDER),
                              key=lambda c: FOLDER_ORDER.index(base_name(c))))
        else:
            out.append(p)
    if not out:
        raise InputError("no file given; expected an interactions file and optionally an item file")
    return out


def _suggest(sniff: FileSniff, roles: Sequence[str]) -> dict[str, Col]:
    found: dict[str, Col] = {}
    if sniff.has_header:
        for role in roles:
            for name in sniff.columns:
                if norm(name) in USUAL[role] and name not in found.values():
                    found[role] = name
                    break
            if role == "timestamp" and role not in found:   # e.g. InvoiceDate, created_time
                dated = [name for name in sniff.columns
                         if norm(name).endswith(("date", "time")) and name not in found.values()]
                if dated:
                    found[role] = dated[0]
    return found


def _generic(inter_path: Path, items_path: Path | None, tags_path: Path | None, name: str = "csv",
             force: dict | None = None) -> DetectedFormat:
    inter = sniff_file(inter_path, **(force or {}))
    m = _suggest(inter, ("user", "item", "rating", "timestamp"))
    if not inter.has_header:
        defaults = {"user": 0, "item": 1, "rating": 2, "timestamp": 3}
        for role, k in defaults.items():
            if k < inter.n_columns:
                m[role] = k
        if "rating" in m and not all(is_number(r[2]) for r in inter.sample if len(r) > 2):
            m.pop("rating")
    item_sniff = sniff_file(items_path) if items_path else None
    ambiguous: list[tuple[str, tuple[str, ...]]] = []
    if inter.has_header:
        ambiguous = _content_roles(inter, item_sniff, m)
    if item_sniff is not None:
        im = _suggest(item_sniff, ("item_id", "title", "genres", "description"))
        if not item_sniff.has_header:
            im = {"item_id": 0}
            if item_sniff.n_columns > 1:
                im["title"] = 1
            if item_sniff.n_columns > 2:
                im["genres"] = 2
        else:
            if "item_id" not in im and m.get("item") is not None:
                im["item_id"] = next((c for c in item_sniff.columns if norm(c) == norm(str(m["item"]))), None)
                if im["item_id"] is None:
                    del im["item_id"]
            more = suggest_item_roles(item_sniff, im.get("item_id"))
            for role in ("title", "genres", "genre_sep", "genres_label"):
                if role not in im and role in more and (role != "genre_sep" or "genres" not in im):
                    im[role] = more[role]
            if im.get("genres") is not None and not isinstance(im["genres"], tuple) and "genres_label" not in im:
                im["genres_label"] = "Genres" if norm(im["genres"]) in ("genre", "genres") else "Categories"
            im["text"] = tuple(c for c in more.get("text", ()) if c not in im.values())
        m.update(im)
    else:
        m.update({k: v for k, v in _suggest(inter, ("title", "genres", "description")).items()
                  if v not in m.values()})
    tags = sniff_file(tags_path) if tags_path else None
    lo = hi = None
    if "rating" in m:
        k = inter.index(m["rating"], "rating")
        vals = [float(r[k]) for r in inter.sample if k < len(r) and is_number(r[k])]
        if vals:
            lo, hi = min(vals), max(vals)
    scale = guess_scale(lo, hi) if lo is not None else (None, None, None)
    if name == "movielens" and (hi is None or hi <= 5):   # MovieLens "latest" CSV: 0.5-5 stars
        scale = (0.5, 5.0, 4.0)
    elif name == "movielens":
        name = "csv"           # named like MovieLens but not on its scale: treat as generic
    return DetectedFormat(name, inter, item_sniff, tags, Mapping(**m), *scale,
                          notes=() if "rating" in m else ("no rating column: implicit data, every interaction "
                                                          "is a positive",),
                          ambiguous=tuple(ambiguous))


def _content_roles(inter: FileSniff, items: FileSniff | None, m: dict) -> list[tuple[str, tuple[str, ...]]]:
    """Fill the roles the usual names missed: user and item from id-like names (UserID, customerId,
    WineID, sku...; the item is the id column the item file shares), the rating from a number named
    like one, the time from a column of dates. Returns the ties left open."""
    ties = []
    users = [c for c in inter.columns if is_user_id(c) and (is_id(c) or c == m.get("user"))
             and (c == m.get("user") or c not in m.values())]
    if len(users) == 1 and m.get("user") is None:
        m["user"] = users[0]
    elif len(users) > 1:              # e.g. UserID and customer_id: ask rather than guess
        m.pop("user", None)
        ties.append(("user", tuple(users)))
    profiles = {p.name: p for p in profile_columns(inter)}
    free = [c for c in inter.columns if c not in m.values() and not is_id(c)]
    if m.get("rating") is None:       # user_rating, review_score, overall_stars: a number named like one
        rated = [c for c in free if profiles[c].kind == "number"
                 and any(w in norm(c) for w in ("rating", "score", "stars"))]
        if len(rated) == 1:
            m["rating"] = rated[0]
    if m.get("timestamp") is None:    # a column of ISO dates, whatever its name
        dated = [c for c in free if profiles[c].kind == "date"]
        if len(dated) == 1:
            m["timestamp"] = dated[0]
    shared = shared_id_columns(inter, items) if items is not None and items.has_header else []
    if m.get("item") is None:
        cands = [c for c in shared if c not in m.values()] or item_candidates(inter, list(m.values()))
        if len(cands) == 1:
            m["item"] = cands[0]
        elif cands:
            ties.append(("item", tuple(cands)))
    return ties


def detect_format(paths: Sequence[str | os.PathLike], format: str = "auto", *, delimiter: str | None = None,
                  has_header: bool | None = None, encoding: str | None = None) -> DetectedFormat:
    """Recognise the files (known datasets by file names and content, else generic delimited text)
    and suggest a mapping and a rating scale. `delimiter`, `has_header`, `encoding` force how the
    interactions file is read (generic files only). Raises InputError naming the file on bad input."""
    force = {k: v for k, v in (("delimiter", delimiter), ("has_header", has_header), ("encoding", encoding))
             if v is not None}
    if force and format == "auto":
        format = "csv"
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise InputError(f"unknown text encoding {shorten(encoding)}; expected e.g. utf-8 or latin-1") from None
    if delimiter is not None and delimiter not in DELIMITERS:
        raise InputError(f"unsupported delimiter {shorten(delimiter)}; expected one of "
                         + ", ".join(describe_delimiter(d) for d in DELIMITERS))
    if format not in FORMATS:
        raise InputError(f"unknown format {format!r}; expected one of {', '.join(FORMATS)}")
    files = expand_paths(paths)
    for f in files:
        if not f.exists():
            raise InputError("no such file", path=str(f))
    bases = [base_name(f) for f in files]
    first = files[0]
    if not any(b in KNOWN_INTERACTIONS for b in bases):
        refuse_side_file(first)
    second = files[1] if len(files) > 1 else None
    third = files[2] if len(files) > 2 else None

    def role(name: str) -> Path | None:
        return files[bases.index(name)] if name in bases else None

    if format in ("auto", "movielens-100k") and (role("u.data") or format == "movielens-100k"):
        r = role("u.data") or first
        items = role("u.item") or (second if format == "movielens-100k" else None) or sibling(r, "u.item")
        return movielens_100k(r, items)
    if format in ("auto", "movielens", "movietweetings") and (
            role("ratings.dat") or (bases[0].endswith(".dat") and sniff_file(first).delimiter == "::")):
        r = role("ratings.dat") or first
        items = role("movies.dat") or (second if role("ratings.dat") is None else None) or sibling(r, "movies.dat")
        return dat_format(r, items, None if format == "auto" else format)
    if format in ("movielens", "movietweetings"):
        return dat_format(first, second, format)
    if format in ("auto",) and role("ratings.csv"):
        r = role("ratings.csv")
        others = [f for f in files if f != r and base_name(f) not in KNOWN_NAMES]   # e.g. ratings.csv wines.csv
        items = role("movies.csv") or (others[0] if others else None) or sibling(r, "movies.csv")
        tags = role("tags.csv") or sibling(r, "tags.csv")
        det = _generic(r, items, tags, "movielens")
        if det.mapping.user is not None and det.mapping.item is not None and det.mapping.rating is not None:
            return det
    return _generic(first, second, third, force=force)


def with_mapping(det: DetectedFormat, mapping: Mapping | dict | None) -> DetectedFormat:
    """Apply a whole Mapping, or a dict of overrides, to a detected format."""
    if mapping is None:
        return det
    if isinstance(mapping, dict):
        unknown = set(mapping) - {f.name for f in dataclasses.fields(Mapping)}
        if unknown:
            raise InputError(f"unknown mapping option(s): {', '.join(sorted(unknown))}")
        mapping = dataclasses.replace(det.mapping, **mapping)
    return dataclasses.replace(det, mapping=mapping)
