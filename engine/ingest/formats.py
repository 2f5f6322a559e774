"""Sniffing files and recognising known datasets, so the wizard and `llmrec import` need no options
for MovieLens, MovieTweetings or CSV files with the usual column names."""
from __future__ import annotations

import codecs
import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence, Union

from engine.errors import InputError, shorten
from engine.ingest.textio import (DELIMITERS, check_columns, check_text, decode, detect_encoding,
                     describe_delimiter, read_sample, split_rows)

Col = Union[str, int, None]   # a header name, or a 0-based column number
FORMATS = ("auto", "movielens-100k", "movielens", "movietweetings", "csv")

ML100K_GENRES = ("unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
                 "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller",
                 "War", "Western")
NO_GENRES = {"(no genres listed)", "unknown"}

# usual header names (lower case, without '_', '-', ' ') for each role
USUAL = {
    "user": ("user", "userid", "uid", "username", "users", "customerid", "customer", "clientid"),
    "item": ("item", "itemid", "movieid", "movie", "iid", "productid", "product", "items", "stockcode", "sku"),
    "rating": ("rating", "ratings", "score", "stars"),
    "timestamp": ("timestamp", "time", "datetime", "date", "ts", "unixtime"),
    "item_id": ("item", "itemid", "movieid", "movie", "id", "iid", "productid"),
    "title": ("title", "name", "movietitle"),
    "genres": ("genres", "genre", "tags", "categories", "category"),
    "description": ("description", "overview", "plot", "summary"),
}


def norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@dataclass(frozen=True)
class Exclude:
    """Skip (and count under `reason`) rows whose `column` value matches: op 'prefix' (starts with
    value), 'eq' (equals value), 'lt' (a number below value)."""
    column: Col
    op: str
    value: str
    reason: str

    def __post_init__(self):
        if self.op not in ("prefix", "eq", "lt"):
            raise ValueError(f"unknown exclude op {self.op!r}")


@dataclass(frozen=True)
class Mapping:
    """Which column holds what. Interaction columns refer to the interactions file; item columns to the
    item file when there is one, else to the interactions file (e.g. a product description)."""
    user: Col = None
    item: Col = None
    rating: Col = None
    timestamp: Col = None
    timestamp_format: str = "auto"            # auto | epoch | iso
    skip_missing_user: bool = False           # empty user cell: skip and count instead of an error
    exclude: tuple[Exclude, ...] = ()
    item_id: Col = None
    title: Col = None
    genres: Col | tuple[Col, ...] = None      # one column, or several whose values are merged
    genre_sep: str = "|"
    description: Col = None
    text: tuple[Col, ...] = ()                # more item columns, each labelled in the item's text
    genres_label: str | None = None           # what the genres are called in the app (None: "Genres")
    genre_flags: tuple[tuple[int, str], ...] = ()  # (column, genre) pairs of 0/1 flags (MovieLens 100K)
    rating_min: float | None = None           # scale overrides; None: from the format or the data
    rating_max: float | None = None
    positive_threshold: float | None = None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def genre_columns(self) -> tuple[Col, ...]:
        g = self.genres
        return () if g is None else tuple(g) if isinstance(g, (tuple, list)) else (g,)


@dataclass(frozen=True)
class FileSniff:
    """What one file looks like: how to split it and what its columns are."""
    path: str
    encoding: str
    delimiter: str
    has_header: bool
    columns: tuple[str, ...]           # header names, or "column 1", "column 2"...
    compressed: bool = False
    sample: tuple[tuple[str, ...], ...] = ()   # the first data rows, parsed

    @property
    def n_columns(self) -> int:
        return len(self.columns)

    @property
    def delimiter_name(self) -> str:
        return describe_delimiter(self.delimiter)

    def index(self, col: Col, what: str) -> int:
        """0-based index of a column given by name or number; InputError naming the file when absent."""
        if isinstance(col, int):
            if 0 <= col < self.n_columns:
                return col
            raise InputError(f"there is no column {col + 1} for the {what} (the file has {self.n_columns} "
                             f"columns)", path=self.path, line=1, column=col + 1)
        if self.has_header:
            for k, name in enumerate(self.columns):
                if name == col:
                    return k
            for k, name in enumerate(self.columns):
                if norm(name) == norm(str(col)):
                    return k
        raise InputError(f"missing column for the {what}; the columns are: "
                         f"{', '.join(shorten(c, quote=False) for c in self.columns)}",
                         path=self.path, line=1, column=str(col))

    def label(self, k: int) -> str | int:
        """How errors name column k: its header name, else its 1-based number."""
        return self.columns[k] if self.has_header else k + 1


@dataclass(frozen=True)
class DetectedFormat:
    """A recognised import: the files with their roles, the column mapping and the rating scale."""
    name: str                               # movielens-100k | movielens | movietweetings | csv
    interactions: FileSniff
    items: FileSniff | None = None
    tags: FileSniff | None = None
    mapping: Mapping = field(default_factory=Mapping)
    rating_min: float | None = None
    rating_max: float | None = None
    positive_threshold: float | None = None
    notes: tuple[str, ...] = ()
    ambiguous: tuple[tuple[str, tuple[str, ...]], ...] = ()   # (role, candidate columns) left for the user

    # the interactions file's shape, for the wizard's first page
    @property
    def delimiter(self) -> str:
        return self.interactions.delimiter

    @property
    def has_header(self) -> bool:
        return self.interactions.has_header

    @property
    def encoding(self) -> str:
        return self.interactions.encoding

    @property
    def columns(self) -> tuple[str, ...]:
        return self.interactions.columns

    @property
    def paths(self) -> list[str]:
        return [f.path for f in (self.interactions, self.items, self.tags) if f is not None]


@dataclass(frozen=True)
class Preview:
    columns: tuple[str, ...]
    has_header: bool
    rows: list[list[str]]
    delimiter: str
    encoding: str


# ---- sniffing one file --------------------------------------------------------------------------

def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def _is_gzip(path: str) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def _pick_delimiter(text: str, path: str) -> tuple[str, list[list[str]]]:
    best = None
    for d in DELIMITERS:
        try:
            rows = [r for _, r in split_rows(text, d)][:200]
        except InputError:
            continue
        if not rows:
            continue
        counts = [len(r) for r in rows]
        mode = max(set(counts), key=counts.count)
        share = counts.count(mode) / len(counts)
        if mode < 2:
            continue
        if share == 1.0:
            return d, rows
        if best is None or share > best[0]:
            best = (share, d, rows)
    if best is None or best[0] < 0.5:
        raise InputError("cannot tell how the columns are separated; expected ',', tab, '|', '::', ';' or "
                         "spaces between at least two columns", path=path, line=1)
    return best[1], best[2]


def _looks_like_header(rows: list[list[str]]) -> bool:
    first, rest = rows[0], rows[1:21]
    usual = {n for names in USUAL.values() for n in names}
    if any(norm(c) in usual for c in first) and not all(_is_number(c) for c in first):
        return True
    if not rest:
        return not any(_is_number(c) for c in first)
    from engine.ingest.roles import id_stem
    for k, cell in enumerate(first):   # 'WineID' above 'w1', 'w2': a header even without numbers
        if id_stem(cell) not in (None, "id") and not any(k < len(r) and id_stem(r[k]) for r in rest):
            return True
    for k, cell in enumerate(first):
        col = [r[k] for r in rest if k < len(r)]
        if col and not _is_number(cell) and all(_is_number(c) for c in col):
            return True
    return False


def sniff_file(path: str | os.PathLike, *, delimiter: str | None = None, has_header: bool | None = None,
               encoding: str | None = None) -> FileSniff:
    """Sniff encoding, delimiter and header from the start of the file (any of them can be forced)."""
    p = str(path)
    raw, _whole = read_sample(p)
    check_text(p, raw)
    enc = encoding or detect_encoding(raw)
    text = decode(raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw, enc)
    if delimiter is None:
        delimiter, rows = _pick_delimiter(text, p)
    else:
        rows = [r for _, r in split_rows(text, delimiter, path=p)][:200]
    if not rows:
        raise InputError("the file is empty; expected one interaction or item per line", path=p, line=1)
    header = _looks_like_header(rows) if has_header is None else has_header
    if header:
        columns = tuple(c.strip() for c in rows[0])
        data = rows[1:]
    else:
        lens = [len(r) for r in rows[:200]]
        width = max(lens, key=lambda n: (lens.count(n), n == lens[0]))   # the usual row; ties: the first
        columns = tuple(f"column {k + 1}" for k in range(width))
        data = rows
    check_columns(p, len(columns), header)
    return FileSniff(path=p, encoding=enc, delimiter=delimiter, has_header=header, columns=columns,
                     compressed=_is_gzip(p),
                     sample=tuple(tuple(r) for r in data[:20]))


def preview(path: str | os.PathLike, n: int = 20, **force) -> Preview:
    """The first `n` data rows as parsed with the sniffed (or forced) delimiter, header and encoding."""
    s = sniff_file(path, **force)
    rows = [list(r) for r in s.sample[:n]]
    if len(rows) < n:
        raw, _ = read_sample(path, 1 << 20)
        text = decode(raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw, s.encoding)
        parsed = [r for _, r in split_rows(text, s.delimiter, path=str(path))]
        rows = parsed[(1 if s.has_header else 0):][:n]
    return Preview(columns=s.columns, has_header=s.has_header, rows=rows, delimiter=s.delimiter,
                   encoding=s.encoding)


# ---- rating scales --------------------------------------------------------------------------------

def guess_scale(lo: float, hi: float) -> tuple[float, float, float]:
    """(rating_min, rating_max, positive_threshold) for observed ratings in [lo, hi]."""
    if lo >= 0 and hi <= 1:
        return 0.0, 1.0, 1.0
    if lo >= 0 and hi <= 5:
        return (0.5 if lo < 1 else 1.0), 5.0, 4.0
    if lo >= 0 and hi <= 10:
        return (0.0 if lo < 1 else 1.0), 10.0, 8.0
    if lo >= 0 and hi <= 100:
        return 0.0, 100.0, 80.0
    return float(lo), float(hi), float(lo + 0.8 * (hi - lo))


# ---- recognising datasets -------------------------------------------------------------------------

KNOWN_NAMES = {"u.data", "u.item", "u.genre", "ratings.dat", "movies.dat", "ratings.csv", "movies.csv", "tags.csv"}


KNOWN_INTERACTIONS = ("u.data", "ratings.dat", "ratings.csv")
# the known files a folder (or a recognised archive) stands for, in the order they are given
FOLDER_ORDER = ("u.data", "ratings.dat", "ratings.csv", "u.item", "movies.dat", "movies.csv", "tags.csv")


def _base(p: Path) -> str:
    name = p.name.lower()
    return name[:-3] if name.endswith(".gz") else name


def _sibling(p: Path, name: str) -> Path | None:
    for cand in (p.with_name(name), p.with_name(name + ".gz")):
        if cand.is_file():
            return cand
    return None


# Files of known datasets that hold no interactions: refused as the interactions file, with what to give instead.
SIDE_FILES = {
    "u.genre": "the MovieLens 100K genre list", "u.user": "the MovieLens 100K user table (age, gender, job)",
    "u.occupation": "the MovieLens 100K occupation list", "u.info": "the MovieLens 100K counts",
    "u.item": "the MovieLens 100K item table", "users.dat": "the MovieLens 1M user table",
    "movies.dat": "an item table (movies)", "movies.csv": "an item table (movies)",
    "tags.csv": "MovieLens tags (give them after ratings.csv)", "links.csv": "MovieLens links to IMDb/TMDb",
    "genome-tags.csv": "the MovieLens tag genome", "genome-scores.csv": "the MovieLens tag genome",
}
INTERACTIONS_FOR = {"u.": "u.data", "users.dat": "ratings.dat", "movies.dat": "ratings.dat"}


def refuse_side_file(path: Path) -> None:
    """A clear error when the interactions file is a known side file (u.genre, u.user, movies.csv...)."""
    base = _base(path)
    what = SIDE_FILES.get(base)
    if what is None:
        return
    want = INTERACTIONS_FOR.get(base) or ("u.data" if base.startswith("u.") else "ratings.csv")
    raise InputError(f"{path.name} is {what}, not interactions; give the ratings file first "
                     f"(e.g. {want}, or the dataset's folder)", path=str(path))


def expand_paths(paths: Sequence[str | os.PathLike]) -> list[Path]:
    """Paths as given; a folder stands for the known files inside it; a .zip for the files inside it
    (the known ones in their usual order, else the largest first)."""
    from engine.ingest.archive import is_zip, zip_files
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if is_zip(p):
            out.extend(zip_files(p))
        elif p.is_dir():
            found = sorted(c for c in p.iterdir() if c.is_file() and _base(c) in KNOWN_NAMES)
            if not found:
                raise InputError("this folder holds no file llmrec recognises (u.data, ratings.dat, ratings.csv...); "
                                 "give the interactions file itself", path=str(p))
            out.extend(sorted((c for c in found if _base(c) in FOLDER_ORDER),
                              key=lambda c: FOLDER_ORDER.index(_base(c))))
        else:
            out.append(p)
    if not out:
        raise InputError("no file given; expected an interactions file and optionally an item file")
    return out


def _ml100k_genres(items_path: Path) -> tuple[str, ...]:
    g = _sibling(items_path, "u.genre")
    if g is not None:
        try:
            names = [line.split("|")[0] for line in g.read_text(encoding="latin-1").splitlines() if "|" in line]
            if len(names) == 19:
                return tuple(names)
        except OSError:
            pass
    return ML100K_GENRES


def _movielens_100k(ratings: Path, items: Path | None) -> DetectedFormat:
    inter = sniff_file(ratings, delimiter="\t", has_header=False)
    item_sniff = sniff_file(items, delimiter="|", has_header=False, encoding="latin-1") if items else None
    flags: tuple[tuple[int, str], ...] = ()
    if item_sniff is not None:
        names = _ml100k_genres(Path(items))
        flags = tuple((5 + k, g) for k, g in enumerate(names) if 5 + k < item_sniff.n_columns)
    mapping = Mapping(user=0, item=1, rating=2, timestamp=3, timestamp_format="epoch",
                      item_id=0 if items else None, title=1 if items else None, genre_flags=flags)
    return DetectedFormat("movielens-100k", inter, item_sniff, None, mapping, 1.0, 5.0, 4.0)


def _tweetings_like(inter: FileSniff) -> bool:
    for row in inter.sample:
        if len(row) >= 3:
            item, rating = row[1], row[2]
            if (len(item) > 1 and item.startswith("0")) or (_is_number(rating) and float(rating) > 5):
                return True
    return False


def _dat_format(ratings: Path, items: Path | None, force: str | None) -> DetectedFormat:
    inter = sniff_file(ratings, delimiter="::", has_header=False)
    item_sniff = sniff_file(items, delimiter="::", has_header=False) if items else None
    name = force or ("movietweetings" if _tweetings_like(inter) else "movielens")
    mapping = Mapping(user=0, item=1, rating=2, timestamp=3, timestamp_format="epoch",
                      item_id=0 if items else None, title=1 if items else None,
                      genres=2 if item_sniff is not None and item_sniff.n_columns >= 3 else None)
    if name == "movietweetings":
        return DetectedFormat(name, inter, item_sniff, None, mapping, 0.0, 10.0, 8.0)
    return DetectedFormat(name, inter, item_sniff, None, mapping, None, 5.0, 4.0,
                          notes=("rating_min is 0.5 when half stars occur, else 1",))


def _suggest(sniff: FileSniff, roles: Sequence[str]) -> dict[str, Col]:
    found: dict[str, Col] = {}
    if sniff.has_header:
        for role in roles:
            for k, name in enumerate(sniff.columns):
                if norm(name) in USUAL[role] and name not in found.values():
                    found[role] = name
                    break
            if role == "timestamp" and role not in found:   # e.g. InvoiceDate, created_time
                found.update({role: name for name in sniff.columns[::-1]
                              if norm(name).endswith(("date", "time")) and name not in found.values()})
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
        if "rating" in m and not all(_is_number(r[2]) for r in inter.sample if len(r) > 2):
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
            from engine.ingest.roles import suggest_item_roles
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
        vals = [float(r[k]) for r in inter.sample if k < len(r) and _is_number(r[k])]
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
    from engine.ingest.roles import is_id, is_user_id, item_candidates, profile_columns, shared_id_columns
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
    bases = [_base(f) for f in files]
    first = files[0]
    if not any(b in KNOWN_INTERACTIONS for b in bases):
        refuse_side_file(first)
    second = files[1] if len(files) > 1 else None
    third = files[2] if len(files) > 2 else None

    def role(name: str) -> Path | None:
        return files[bases.index(name)] if name in bases else None

    if format in ("auto", "movielens-100k") and (role("u.data") or format == "movielens-100k"):
        r = role("u.data") or first
        items = role("u.item") or (second if format == "movielens-100k" else None) or _sibling(r, "u.item")
        return _movielens_100k(r, items)
    if format in ("auto", "movielens", "movietweetings") and (
            role("ratings.dat") or (bases[0].endswith(".dat") and sniff_file(first).delimiter == "::")):
        r = role("ratings.dat") or first
        items = role("movies.dat") or (second if role("ratings.dat") is None else None) or _sibling(r, "movies.dat")
        return _dat_format(r, items, None if format == "auto" else format)
    if format in ("movielens", "movietweetings"):
        return _dat_format(first, second, format)
    if format in ("auto",) and role("ratings.csv"):
        r = role("ratings.csv")
        others = [f for f in files if f != r and _base(f) not in KNOWN_NAMES]   # e.g. ratings.csv wines.csv
        items = role("movies.csv") or (others[0] if others else None) or _sibling(r, "movies.csv")
        tags = role("tags.csv") or _sibling(r, "tags.csv")
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
