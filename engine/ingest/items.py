"""Reading an item file (id, title, genres, description) and folding MovieLens tags into the item
description. Item files are small next to interaction files, so rows are parsed as text with exact
line numbers."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..errors import InputError
from ..jobs import CancelToken, check
from .formats import NO_GENRES, USUAL, FileSniff, Mapping, norm
from .textio import CSV_DELIMITERS, decode, iter_chunks, open_source, split_rows

MAX_TAGS = 20


@dataclass
class ItemTable:
    ids: list[str] = field(default_factory=list)
    titles: list[str | None] = field(default_factory=list)
    genres: list[str | None] = field(default_factory=list)    # '|' between genres
    descriptions: list[str | None] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0


def iter_text_rows(sniff: FileSniff, cancel: CancelToken | None = None):
    """(line, fields) of a whole file, decoded with the sniffed encoding, header skipped."""
    with open_source(sniff.path) as src:
        header_pending = sniff.has_header
        for start, data in iter_chunks(src, quote_aware=sniff.delimiter in CSV_DELIMITERS):
            check(cancel)
            for line, row in split_rows(decode(data, sniff.encoding), sniff.delimiter, start, path=sniff.path):
                if header_pending:
                    header_pending = False
                    continue
                yield line, row


def split_genres(value: str, sep: str) -> list[str]:
    parts = value.split(sep) if sep else [value]
    return [g.strip().replace("|", "/") for g in parts if g.strip() and g.strip() not in NO_GENRES]


def read_items(sniff: FileSniff, m: Mapping, cancel: CancelToken | None = None) -> ItemTable:
    """Read the item file per the mapping; a repeated item id keeps the first row and is counted."""
    id_k = sniff.index(m.item_id if m.item_id is not None else 0, "item id")
    title_k = sniff.index(m.title, "title") if m.title is not None else None
    genres_k = sniff.index(m.genres, "genres") if m.genres is not None else None
    desc_k = sniff.index(m.description, "description") if m.description is not None else None
    flags = [(k, g) for k, g in m.genre_flags]
    need = max([id_k, title_k or 0, genres_k or 0, desc_k or 0] + [k for k, _ in flags]) + 1
    t = ItemTable()
    for line, row in iter_text_rows(sniff, cancel):
        if len(row) < need:
            raise InputError(f"ragged row: expected at least {need} columns, found {len(row)}",
                             path=sniff.path, line=line, column=len(row) + 1)
        item_id = row[id_k].strip()
        if not item_id:
            raise InputError("empty item id; expected an id", path=sniff.path, line=line, column=sniff.label(id_k))
        if item_id in t.index:
            t.duplicates += 1
            continue
        genres = split_genres(row[genres_k], m.genre_sep) if genres_k is not None else []
        for k, g in flags:
            v = row[k].strip()
            if v not in ("0", "1", ""):
                raise InputError(f"expected a genre flag 0 or 1, found {v!r}", path=sniff.path, line=line,
                                 column=sniff.label(k))
            if v == "1" and g not in NO_GENRES:
                genres.append(g)
        t.index[item_id] = len(t.ids)
        t.ids.append(item_id)
        t.titles.append((row[title_k].strip() or None) if title_k is not None else None)
        t.genres.append("|".join(genres) or None)
        t.descriptions.append((row[desc_k].strip() or None) if desc_k is not None else None)
    return t


def fold_tags(items: ItemTable, tags: FileSniff, cancel: CancelToken | None = None) -> int:
    """Append each item's most frequent tags (MovieLens tags.csv) to its description; returns the
    number of tag rows read. Tags of items absent from the item file are ignored."""
    item_k = next((k for k, c in enumerate(tags.columns) if norm(c) in USUAL["item"]), 1)
    tag_k = next((k for k, c in enumerate(tags.columns) if norm(c) in ("tag", "tags")), 2)
    counts: dict[int, Counter] = {}
    n = 0
    for line, row in iter_text_rows(tags, cancel):
        if len(row) <= max(item_k, tag_k):
            raise InputError(f"ragged row: expected at least {max(item_k, tag_k) + 1} columns, found {len(row)}",
                             path=tags.path, line=line)
        n += 1
        idx = items.index.get(row[item_k].strip())
        tag = row[tag_k].strip()
        if idx is not None and tag:
            counts.setdefault(idx, Counter())[tag.lower()] += 1
    for idx, c in counts.items():
        text = "tags: " + ", ".join(tag for tag, _ in c.most_common(MAX_TAGS))
        old = items.descriptions[idx]
        items.descriptions[idx] = f"{old} {text}" if old else text
    return n
