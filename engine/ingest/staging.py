"""What the SQLite and PostgreSQL write paths of an import share: the progress and summary records,
the loop that reads, parses and stages the interactions chunk by chunk (`stage_interactions`), the
user and item rows written after them, and IMPORTING, the mark of a dataset still being written."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from engine.errors import InputError
from engine.ingest.textio import CSV_DELIMITERS, FALLBACK, iter_chunks, open_source
from engine.jobs.cancel import check
from engine.store import repository as repo

CHUNK_BYTES = 1 << 22   # of the interactions file parsed and staged at a time


@dataclass(frozen=True)
class ImportProgress:
    """Reported after each chunk: `stage` is 'items', 'interactions', 'sorting' (once, before the sort into
    key order), 'writing' (or 'waiting for the database' while another program writes) or 'done'."""
    stage: str
    rows: int
    bytes_read: int
    bytes_total: int
    path: str = ""

    @property
    def fraction(self) -> float:
        return self.bytes_read / self.bytes_total if self.bytes_total else 0.0


@dataclass(frozen=True)
class ImportSummary:
    dataset_id: int | None          # None after a dry run
    name: str
    format: str
    n_users: int
    n_items: int
    n_interactions: int
    skipped: dict = field(default_factory=dict)   # reason -> rows
    duplicates: int = 0                           # repeated (user, item) rows collapsed to the latest
    seconds: float = 0.0
    rows_read: int = 0
    rating_min: float | None = None
    rating_max: float | None = None
    positive_threshold: float | None = None
    dry_run: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


IMPORTING = repo.IMPORTING  # source key of a dataset still being written (its writer's process_mark): hidden


def stage_interactions(det, parser, stage, report, cancel) -> tuple[int, int]:
    """Read the interactions file chunk by chunk, parse it and hand each chunk's (users, items, ratings,
    times) to `stage` (SQLite: a TEMP table; PostgreSQL: COPY). Returns (rows staged, file bytes); no
    usable row at all is an InputError naming the file."""
    staged = 0
    path = det.interactions.path
    with open_source(path) as src:
        total = src.total
        quote_aware = det.interactions.delimiter in CSV_DELIMITERS
        for start, data in iter_chunks(src, CHUNK_BYTES, quote_aware):
            check(cancel)
            got = parser.rows(parser.splitter.split(start, data))
            if got is not None:
                stage(*got)
                staged += len(got[0])
            report(ImportProgress("interactions", parser.rows_read, src.bytes_read, total, path))
    check(cancel)
    if staged == 0:
        why = ", ".join(f"{v} {k}" for k, v in parser.skipped.items()) or "no data rows"
        raise InputError(f"no interactions to import ({why}); expected at least one row with a user and an item",
                         path=path)
    return staged, total


ITEM_COLUMNS = ("dataset_id", "idx", "external_id", "title", "genres", "description")


def user_rows(ds_id: int, parser, enc: str):
    """(dataset_id, idx, external_id) of every user the parser met (SQLite and PostgreSQL imports)."""
    return ((ds_id, i, u.decode(enc, FALLBACK)) for u, i in parser.umap.items())


def item_rows(ds_id: int, parser, items, enc: str):
    """The ITEM_COLUMNS rows: from the item file when there is one, else from the items the parser met
    (with their text cells when the interactions file carries them)."""
    if items is not None:
        yield from ((ds_id, k, items.ids[k], items.titles[k] or items.ids[k], items.genres[k],
                     items.descriptions[k]) for k in range(len(items.ids)))
        return
    where = {k: j for j, k in enumerate(parser.text_k)}
    for key, k in parser.imap.items():
        ext = key.decode(enc, FALLBACK)
        cells = parser.item_text.get(k)
        if cells is None or parser.fields is None:
            yield ds_id, k, ext, ext, None, None
            continue
        t, g, d = parser.fields.build(lambda c, cells=cells: cells[where[c]].decode(enc, FALLBACK))
        yield ds_id, k, ext, t or ext, "|".join(g) or None, d
