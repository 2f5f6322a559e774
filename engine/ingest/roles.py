"""Column roles from names and content, for files that are not MovieLens-shaped: id columns by their
names (UserID, user_id, customerId, WineID, product_id, sku, asin...), the item column as the id
column the item file shares with the interactions file, list-valued cells (Python lists, JSON
arrays, '|' or ';' separated) and the item file's descriptive columns, which become labelled text."""
from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from typing import Sequence

from engine.ingest.detected import FileSniff
from engine.ingest.mapping import USUAL, norm

# whole-name ids (normalised: lower case, no '_', '-', ' ')
ID_NAMES = {"id", "code", "sku", "asin", "isbn", "isbn10", "isbn13", "upc", "ean", "gtin", "stockcode", "uuid", "guid"}
USER_WORDS = ("user", "customer", "client", "member", "reviewer", "account", "buyer", "visitor", "player",
              "person", "profile", "subscriber", "listener", "reader", "viewer", "shopper")
ITEM_WORDS = ("item", "product", "movie", "book", "wine", "game", "track", "song", "article", "recipe", "anime",
              "beer", "course", "video", "show", "app", "business", "restaurant", "hotel", "place", "artist")
# ids of an event row rather than of who or what it is about
EVENT_WORDS = ("rating", "review", "interaction", "event", "transaction", "row", "record", "session", "line",
               "log", "invoice", "order", "purchase")
URL_WORDS = ("url", "website", "link", "image", "img", "thumbnail", "photo", "href", "uri")
GENRE_NAMES = set(USUAL["genres"])
CATEGORY_NAMES = {"type", "kind", "class", "style", "categoryname", "subcategory", "section", "department"}
LIST_SEPS = ("|", ";")


def id_stem(name: str) -> str | None:
    """'WineID' -> 'wine', 'user_id' -> 'user', 'customerId' -> 'customer', 'sku' -> 'sku'; None when the
    name does not look like an id column."""
    n = norm(name)
    if n in ID_NAMES:
        return n
    words = [w.lower() for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", name)]
    if len(words) >= 2 and words[-1] in ("id", "ids", "key", "code", "no", "number", "num") and n not in (
            "zipcode", "postcode", "postalcode", "countrycode"):
        return "".join(words[:-1])
    if n.endswith("id") and n[:-2] in USER_WORDS + ITEM_WORDS:   # 'userid', 'productid'
        return n[:-2]
    return None


def is_id(name: str) -> bool:
    return id_stem(name) is not None


def is_user_id(name: str) -> bool:
    stem = id_stem(name)
    return norm(name) in USUAL["user"] or (stem is not None and any(stem.startswith(w) for w in USER_WORDS))


def is_event_id(name: str) -> bool:
    stem = id_stem(name)
    return stem is not None and any(stem.startswith(w) for w in EVENT_WORDS)


def humanize(name: str) -> str:
    """A column name as a label in item text: 'RegionName' -> 'region name', 'pairs_with' -> 'pairs with'."""
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", name)
    return " ".join(w if len(w) > 1 and w.isupper() else w.lower() for w in words) or name.strip()


# ---- list-valued cells ------------------------------------------------------------------------------

def parse_bracket_list(cell: str) -> list[str] | None:
    """A Python-style list or JSON array as strings; None when the cell is not one."""
    s = cell.strip()
    if len(s) < 2 or s[0] != "[" or s[-1] != "]":
        return None
    for parse in (json.loads, ast.literal_eval):
        try:
            v = parse(s)
        except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
            continue
        if isinstance(v, (list, tuple)):
            return [str(x).strip() for x in v if str(x).strip()]
    return None


def split_list(cell: str, sep: str | None) -> list[str]:
    """The values of a list-valued cell: a bracketed list, else split at `sep` (None: one value)."""
    got = parse_bracket_list(cell)
    if got is not None:
        return got
    parts = cell.split(sep) if sep else [cell]
    return [p.strip() for p in parts if p.strip()]


@dataclass(frozen=True)
class ColumnProfile:
    """What a column's sampled cells look like. kind: id | number | date | url | list | text | empty."""
    name: str
    index: int
    kind: str
    list_style: str | None = None     # 'python' | 'json' | '|' | ';' when kind is list
    numeric_items: bool = False       # a list of numbers (e.g. vintages)
    distinct: int = 0
    example: str = ""

    @property
    def description(self) -> str:
        if self.kind == "list":
            style = {"python": "Python-style list", "json": "JSON array"}.get(self.list_style or "",
                                                                               f"'{self.list_style}'-separated list")
            return f"list ({style}{', numbers' if self.numeric_items else ''})"
        return self.kind

    @property
    def sep(self) -> str | None:
        """The separator split_list needs for this column (bracketed lists need none)."""
        return self.list_style if self.list_style in LIST_SEPS else None


def _number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?")


def profile_column(sniff: FileSniff, k: int) -> ColumnProfile:
    name = sniff.columns[k]
    cells = [r[k].strip() for r in sniff.sample if k < len(r) and r[k].strip()]
    base = dict(name=name, index=k, distinct=len(set(cells)), example=cells[0] if cells else "")
    if not cells:
        return ColumnProfile(kind="empty", **base)
    if sniff.has_header and is_id(name):
        return ColumnProfile(kind="id", **base)
    if all(_number(c) for c in cells):
        return ColumnProfile(kind="number", **base)
    if all(_DATE.match(c) for c in cells):
        return ColumnProfile(kind="date", **base)
    if (sniff.has_header and any(w in norm(name) for w in URL_WORDS)) or all(
            c.startswith(("http://", "https://", "www.")) for c in cells):
        return ColumnProfile(kind="url", **base)
    lists = [parse_bracket_list(c) for c in cells]
    if all(v is not None for v in lists):
        style = "json" if all(_is_json(c) for c in cells) else "python"
        items = [x for v in lists for x in v]
        numeric = bool(items) and sum(_number(x) for x in items) > 0.5 * len(items)
        return ColumnProfile(kind="list", list_style=style, numeric_items=numeric, **base)
    for sep in LIST_SEPS:
        parts = [c.split(sep) for c in cells]
        if sum(len(p) > 1 for p in parts) >= max(2, len(cells) // 3) and all(
                len(x.strip()) <= 40 for p in parts for x in p):
            return ColumnProfile(kind="list", list_style=sep, **base)
    return ColumnProfile(kind="text", **base)


def _is_json(cell: str) -> bool:
    try:
        json.loads(cell)
        return True
    except ValueError:
        return False


def profile_columns(sniff: FileSniff) -> list[ColumnProfile]:
    return [profile_column(sniff, k) for k in range(sniff.n_columns)]


# ---- suggesting roles -------------------------------------------------------------------------------

def shared_id_columns(inter: FileSniff, items: FileSniff) -> list[str]:
    """Interaction columns whose name (normalised) is also a column of the item file and looks like an
    id (or is the only shared column): the candidates for the item column."""
    item_names = {norm(c) for c in items.columns}
    shared = [c for c in inter.columns if norm(c) in item_names and not is_user_id(c)]
    ids = [c for c in shared if is_id(c) or norm(c) in USUAL["item"]]
    return ids or shared


def item_candidates(inter: FileSniff, exclude: Sequence[str]) -> list[str]:
    """Id-like columns of the interactions file that may name the item (no item file to compare)."""
    return [c for c in inter.columns if c not in exclude and is_id(c) and not is_user_id(c)
            and not is_event_id(c)]


def suggest_item_roles(items: FileSniff, item_id: str | None) -> dict:
    """Title, categories and labelled text columns of an item file with a header, from names and
    content: the title is the '*name'/'*title' column (the one named after the item id first);
    categories are the columns named like genres, else those named like a type plus the first list of
    words; text is every remaining descriptive column (not ids, numbers, dates or links)."""
    profiles = profile_columns(items)
    out: dict = {}
    stem = id_stem(item_id) if item_id else None
    names = [p for p in profiles if p.kind in ("text", "list") and norm(p.name).endswith(("name", "title"))]
    if names:
        named = [p for p in names if stem and norm(p.name) in (stem + "name", stem + "title")]
        out["title"] = (named or names)[0].name
    genres = [p for p in profiles if norm(p.name) in GENRE_NAMES and p.kind in ("text", "list")]
    label = "Genres" if any(norm(p.name) in ("genre", "genres") for p in genres) else "Categories"
    if not genres:
        genres = [p for p in profiles if norm(p.name) in CATEGORY_NAMES and p.kind == "text"]
        first_list = next((p for p in profiles if p.kind == "list" and not p.numeric_items
                           and p.name != out.get("title")), None)
        if first_list is not None:
            genres.append(first_list)
    if genres:
        out["genres"] = tuple(p.name for p in genres)
        seps = {p.sep for p in genres if p.sep}
        if len(seps) == 1:
            out["genre_sep"] = seps.pop()
        out["genres_label"] = label
    used = {out.get("title"), item_id}
    out["text"] = tuple(p.name for p in profiles
                        if p.name not in used and norm(p.name) not in GENRE_NAMES
                        and norm(p.name) not in USUAL["description"]
                        and (p.kind == "text" or (p.kind == "list" and not p.numeric_items)))
    return out
