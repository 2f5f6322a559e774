"""Which column holds what: the `Mapping` the wizard, `llmrec import` options and mapping files fill
in, its exclude rules, and the usual header names of each role (USUAL, compared after `norm`).
The bottom of engine.ingest: plain data, no file access."""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Union

Col = Union[str, int, None]   # a header name, or a 0-based column number
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

