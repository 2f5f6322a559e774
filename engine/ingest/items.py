"""Reading an item file (id, title, genres, description) and folding MovieLens tags into the item
description. Item files are small next to interaction files, so rows are parsed as text with exact
line numbers."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from engine.errors import InputError
from engine.ingest.detected import FileSniff
from engine.ingest.mapping import NO_GENRES, USUAL, Mapping, norm
from engine.ingest.roles import humanize, profile_column, split_list
from engine.ingest.textio import CSV_DELIMITERS, decode, iter_chunks, open_source, split_rows
from engine.jobs.cancel import CancelToken, check

MAX_TAGS = 20


@dataclass
class ItemTable:
    ids: list[str] = field(default_factory=list)
    titles: list[str | None] = field(default_factory=list)
    genres: list[str | None] = field(default_factory=list)    # '|' between genres
    descriptions: list[str | None] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0


def iter_text_rows(sniff: FileSniff, cancel: CancelToken | None = None, chunk_bytes: int = 1 << 22):
    """(line, fields) of a whole file, decoded with the sniffed encoding, header skipped."""
    with open_source(sniff.path) as src:
        header_pending = sniff.has_header
        for start, data in iter_chunks(src, chunk_bytes, quote_aware=sniff.delimiter in CSV_DELIMITERS):
            check(cancel)
            for line, row in split_rows(decode(data, sniff.encoding), sniff.delimiter, start, path=sniff.path):
                if header_pending:
                    header_pending = False
                    continue
                yield line, row


def split_genres(value: str, sep: str) -> list[str]:
    """Genres of one cell: a Python/JSON list, else split at `sep`; 'unknown' and the like dropped."""
    return [g.replace("|", "/") for g in split_list(value, sep) if g not in NO_GENRES]


class ItemFields:
    """How one row of item cells becomes (title, genres, description) per the mapping: genres merged
    from one or more columns, the description column followed by each text column as 'label: value'
    (list cells joined by ', '). Used for item files and for item columns of the interactions file."""

    def __init__(self, sniff: FileSniff, m: Mapping):
        self.title_k = sniff.index(m.title, "title") if m.title is not None else None
        self.genre_ks = list(dict.fromkeys(sniff.index(c, "genres") for c in m.genre_columns))
        self.desc_k = sniff.index(m.description, "description") if m.description is not None else None
        self.genre_sep = m.genre_sep
        self.text: list[tuple[int, str, str | None]] = []      # (column, label, list separator)
        for c in m.text:
            k = sniff.index(c, "text")
            if k != self.desc_k and k not in (t[0] for t in self.text):
                prof = profile_column(sniff, k)
                label = humanize(sniff.columns[k]) if sniff.has_header else sniff.columns[k]
                self.text.append((k, label, prof.sep if prof.kind == "list" else None))

    @property
    def columns(self) -> list[int]:
        ks = [self.title_k, self.desc_k, *self.genre_ks, *(k for k, _, _ in self.text)]
        return [k for k in ks if k is not None]

    def build(self, cell: Callable[[int], str]) -> tuple[str | None, list[str], str | None]:
        title = (cell(self.title_k).strip() or None) if self.title_k is not None else None
        genres: list[str] = []
        for k in self.genre_ks:
            genres.extend(g for g in split_genres(cell(k), self.genre_sep) if g not in genres)
        parts = []
        if self.desc_k is not None and cell(self.desc_k).strip():
            parts.append(cell(self.desc_k).strip())
        for k, label, sep in self.text:
            v = ", ".join(split_list(cell(k), sep))
            if v:
                parts.append(f"{label}: {v}")
        return title, genres, "; ".join(parts) or None


def read_items(sniff: FileSniff, m: Mapping, cancel: CancelToken | None = None, limit: int | None = None
               ) -> ItemTable:
    """Read the item file per the mapping (its first `limit` items only when given, for a preview);
    a repeated item id keeps the first row and is counted."""
    id_col = m.item_id
    if id_col is None:          # the column named like the interactions' item column, else the first
        id_col = next((c for c in sniff.columns if sniff.has_header and isinstance(m.item, str)
                       and norm(c) == norm(m.item)), 0)
    id_k = sniff.index(id_col, "item id")
    fields = ItemFields(sniff, m)
    flags = [(k, g) for k, g in m.genre_flags]
    need = max([id_k, *fields.columns] + [k for k, _ in flags]) + 1
    t = ItemTable()
    for line, row in iter_text_rows(sniff, cancel, 1 << 22 if limit is None else 1 << 16):
        if len(row) < need:
            raise InputError(f"ragged row: expected at least {need} columns, found {len(row)}",
                             path=sniff.path, line=line, column=len(row) + 1)
        item_id = row[id_k].strip()
        if not item_id:
            raise InputError("empty item id; expected an id", path=sniff.path, line=line, column=sniff.label(id_k))
        if item_id in t.index:
            t.duplicates += 1
            continue
        if limit is not None and len(t.ids) >= limit:
            break
        title, genres, description = fields.build(row.__getitem__)
        for k, g in flags:
            v = row[k].strip()
            if v not in ("0", "1", ""):
                raise InputError(f"expected a genre flag 0 or 1, found {v!r}", path=sniff.path, line=line,
                                 column=sniff.label(k))
            if v == "1" and g not in NO_GENRES:
                genres.append(g)
        t.index[item_id] = len(t.ids)
        t.ids.append(item_id)
        t.titles.append(title)
        t.genres.append("|".join(genres) or None)
        t.descriptions.append(description)
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


def preview_items(det, m: Mapping, n: int = 3) -> list[tuple[str, str | None, list[str], str | None]]:
    """(id, title, genres, description) of the first `n` items as the import would store them: what the
    wizard's live preview shows while columns are ticked."""
    if det.items is not None:
        t = read_items(det.items, m, limit=n)
        return [(t.ids[k], t.titles[k], (t.genres[k] or "").split("|") if t.genres[k] else [], t.descriptions[k])
                for k in range(len(t.ids))]
    s = det.interactions
    if m.item is None:
        return []
    ik = s.index(m.item, "item")
    fields = ItemFields(s, m)
    out, seen = [], set()
    for row in s.sample:
        if ik >= len(row) or row[ik] in seen or any(k >= len(row) for k in fields.columns):
            continue
        seen.add(row[ik])
        title, genres, desc = fields.build(row.__getitem__)
        out.append((row[ik], title, genres, desc))
        if len(out) == n:
            break
    return out
