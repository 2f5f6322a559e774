"""A dataset as numpy arrays (dense internal indices), loaded from and written to the store in bulk
through the DB-API, never row by row through the ORM."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Iterable, Sequence

import numpy as np

from engine.data.grouped_rows import distinct_codes
from engine.data.packed_strings import PackedStrings, PackedStringsBuilder
from engine.errors import EngineError, NotFoundError, shorten
from engine.store import Store
from engine.store import repository as repo
from engine.store.bulk import bulk_writer
from engine.types import DatasetInfo

NO_TIMESTAMP = np.iinfo(np.int64).min  # marks a missing timestamp in `Interactions.timestamp`


@dataclass
class Dataset:
    """Everything a model, a metric or a view needs about one dataset."""

    info: DatasetInfo
    user_ids: np.ndarray          # (n_users,) external ids as str (object array)
    item_ids: np.ndarray          # (n_items,) external ids as str (object array)
    titles: Sequence[str]         # a list, or PackedStrings as loaded from the store (decoded on access)
    genres: list[tuple[str, ...]]
    descriptions: Sequence[str]   # as titles
    user_idx: np.ndarray          # (n,) int32
    item_idx: np.ndarray          # (n,) int32
    rating: np.ndarray            # (n,) float32, NaN where the data has no rating
    timestamp: np.ndarray         # (n,) int64, NO_TIMESTAMP where missing
    _positive_threshold: float | None = field(default=None, repr=False)

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_interactions(self) -> int:
        return len(self.user_idx)

    @property
    def positive_threshold(self) -> float | None:
        return self._positive_threshold

    def positive_mask(self, threshold: float | None = None) -> np.ndarray:
        """Positives per docs/evaluation.md: rating >= threshold; every interaction when unrated."""
        return self.is_positive(self.rating, threshold)

    def is_positive(self, ratings: np.ndarray, threshold: float | None = None) -> np.ndarray:
        """`positive_mask` of some ratings (a block of rows), so block-wise passes need no n-long mask."""
        t = self._positive_threshold if threshold is None else threshold
        if t is None:
            return np.ones(len(ratings), dtype=bool)
        return np.isnan(ratings) | (ratings >= t)

    def item_text(self, i: int) -> str:
        """The text the item tower reads: title, genres/tags, description."""
        parts = [self.titles[i], " ".join(self.genres[i]), self.descriptions[i]]
        return " | ".join(p for p in parts if p)

    # ---- pickling (the store process hands datasets to the app) ---------------------------------
    def __getstate__(self) -> dict:
        """Each string column as one joined string plus lengths, the genre sets as distinct tuples plus
        codes: item by item, each of a million items' four or five Python objects costs a pickle-memo
        entry and an opcode (measured on 20,000 items: a third less peak memory while pickling), and
        the receiver gets one shared tuple per distinct genre set."""
        state = dict(self.__dict__)
        for name in ("titles", "descriptions", "item_ids", "user_ids"):
            state[name] = _pack_strings(state[name])
        distinct, codes = distinct_codes(self.genres, key=lambda g: g)
        state["genres"] = ("__genre_codes__", distinct, codes)
        return state

    def __setstate__(self, state: dict) -> None:
        for name in ("titles", "descriptions"):
            state[name] = _unpack_strings(state[name])
        for name in ("item_ids", "user_ids"):
            values = _unpack_strings(state[name])
            state[name] = values if isinstance(values, np.ndarray) else np.array(values, dtype=object)
        g = state["genres"]
        if isinstance(g, tuple) and len(g) == 3 and g[0] == "__genre_codes__":
            sets = g[1]
            state["genres"] = [sets[c] for c in g[2].tolist()]
        self.__dict__.update(state)

    def user_events(self, user: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The user's interactions (items, ratings, timestamps) of data sorted by user, as loaded."""
        # typed bounds: a list of ints made numpy copy 25M user indices to int64 per call (0.16 s)
        a, b = np.searchsorted(self.user_idx, np.array([user, user + 1], dtype=self.user_idx.dtype))
        return self.item_idx[a:b], self.rating[a:b], self.timestamp[a:b]

    def subset(self, mask: np.ndarray) -> "Dataset":
        """The same catalogue and users with only the interactions where `mask` is true."""
        return Dataset(self.info, self.user_ids, self.item_ids, self.titles, self.genres, self.descriptions,
                       self.user_idx[mask], self.item_idx[mask], self.rating[mask], self.timestamp[mask],
                       self._positive_threshold)


_LOADING = threading.Lock()


def load_dataset(store: Store, name_or_id: str | int, *, with_text: bool = True,
                 with_interactions: bool = True) -> Dataset:
    """The dataset from the store. `with_text=False` leaves titles and descriptions empty (aggregates such
    as the Datasets view's figures need neither: at 1M items they are ~200 MiB of Python strings).
    `with_interactions=False` loads the users and the catalogue only (zero interactions; `info` keeps the
    real counts): what the explorer holds, reading one user's interactions at a time (`user_interactions`).
    One load at a time per process: the app's store process is asked for the Datasets view's figures and
    the explorer's run together, and two concurrent loads of a 1M-item dataset add up their peaks."""
    with _LOADING:
        return _load_dataset(store, name_or_id, with_text, with_interactions)


def _load_dataset(store: Store, name_or_id: str | int, with_text: bool, with_interactions: bool = True) -> Dataset:
    with store.session() as s:
        info = repo.get_dataset(s, name_or_id)
    with store.engine.connect() as conn:
        cur = conn.connection.driver_connection.cursor() if store.is_sqlite else None
        if cur is not None:
            # SQLite stores text as UTF-8 (the default encoding): read titles and descriptions as those
            # bytes, the very buffer PackedStrings keeps, rather than decoding then re-encoding 2M strings
            raw = with_text and cur.execute("PRAGMA encoding").fetchone()[0] == "UTF-8"
            text_cols = (("CAST(title AS BLOB)", "CAST(description AS BLOB)") if raw else ("title", "description")
                         ) if with_text else ("''", "''")
            users = _user_ids(cur.execute("SELECT external_id FROM users WHERE dataset_id=? ORDER BY idx",
                                          (info.id,)))
            cur.execute(f"SELECT external_id, {text_cols[0]}, genres, {text_cols[1]} FROM items "
                        "WHERE dataset_id=? ORDER BY idx", (info.id,))
            items = _item_columns(cur, with_text, raw)
            if with_interactions:
                cur.execute("SELECT user_idx, item_idx, rating, timestamp FROM interactions "
                            "WHERE dataset_id=? ORDER BY user_idx, timestamp, item_idx", (info.id,))
                arrays = _interaction_arrays(cur, info.n_interactions)
            else:
                arrays = _interaction_arrays(_NoRows(), 0)
            cur.close()
        else:
            from sqlalchemy import text
            text_cols = ("title", "description") if with_text else ("''", "''")
            users = _user_ids(conn.execute(text("SELECT external_id FROM users WHERE dataset_id=:d "
                                                "ORDER BY idx"), {"d": info.id}))
            items = _item_columns(conn.execute(text(f"SELECT external_id, {text_cols[0]}, genres, {text_cols[1]} "
                                                    "FROM items WHERE dataset_id=:d ORDER BY idx"), {"d": info.id}),
                                  with_text)
            result = (conn.execute(text("SELECT user_idx, item_idx, rating, timestamp FROM interactions "
                                        "WHERE dataset_id=:d ORDER BY user_idx, timestamp, item_idx"),
                                   {"d": info.id}) if with_interactions else _NoRows())
            arrays = _interaction_arrays(result, info.n_interactions if with_interactions else 0)
    user_idx, item_idx, rating, timestamp = arrays
    item_ids, titles, genres, descriptions = items
    return Dataset(
        info=info,
        user_ids=users,
        item_ids=np.array(item_ids, dtype=object),
        titles=titles, genres=genres, descriptions=descriptions,
        user_idx=user_idx, item_idx=item_idx, rating=rating, timestamp=timestamp,
        _positive_threshold=info.positive_threshold,
    )


ITEM_ROWS = 50_000


def _user_ids(cursor) -> np.ndarray:
    """The users' external ids (object array) from a one-column query, read in blocks: 625k row tuples held
    until the dataset was built were ~50 MiB of the store process's peak."""
    ids: list = []
    while rows := cursor.fetchmany(ITEM_ROWS):
        ids.extend(map(itemgetter(0), rows))
    return np.array(ids, dtype=object)


def _item_columns(cursor, with_text: bool, raw: bool = False) -> tuple[list, object, list, object]:
    """(item ids, titles, genre tuples, descriptions) from an (external_id, title, genres, description)
    query, read in blocks of ITEM_ROWS (never a list of a million row tuples beside the columns), one shared
    tuple per distinct genre string. Titles and descriptions come as PackedStrings (one UTF-8 buffer plus
    offsets, decoded on access): at a million items the two lists of Python strings were ~190 MiB, the
    packed columns are ~110 MiB. `raw`: the query gives titles and descriptions as their UTF-8 bytes
    (SQLite), packed as they come. (Splitting each block into columns first, by zip or itemgetter, measured
    slower than this loop at 1M items.)"""
    ids: list = []
    titles, descriptions = PackedStringsBuilder(), PackedStringsBuilder()
    genres: list = []
    sets: dict[str, tuple] = {}
    while rows := cursor.fetchmany(ITEM_ROWS):
        for ext, _title, g, _desc in rows:
            ids.append(ext)
            g = g or ""
            genres.append(sets.get(g) or sets.setdefault(g, tuple(x for x in g.split("|") if x)))
        if with_text and raw:       # an empty or missing title shows the item's id, as below
            titles.extend_encoded([r[1] or r[0].encode("utf-8") for r in rows])
            descriptions.extend_encoded([r[3] or b"" for r in rows])
        elif with_text:
            titles.extend([r[1] or r[0] for r in rows])
            descriptions.extend([r[3] or "" for r in rows])
    if not with_text:
        return ids, [""] * len(ids), genres, [""] * len(ids)
    return ids, titles.build(), genres, descriptions.build()


def _pack_strings(values):
    """("__split__", NUL-joined, n) when every value is a str without a NUL, ("__packed__", joined, lengths)
    when some hold one, else the values as they are."""
    if isinstance(values, PackedStrings):
        return values               # already one buffer: pickles as it is
    values = list(values)
    if not values or set(map(type, values)) != {str}:
        return values
    joined = "\0".join(values)
    if joined.count("\0") == len(values) - 1:      # no value holds a NUL: split on it when unpickled
        return ("__split__", joined, len(values))
    lengths = np.fromiter(map(len, values), dtype=np.int32, count=len(values))
    return ("__packed__", "".join(values), lengths)


def _unpack_strings(packed):
    """The list `_pack_strings` packed. NUL-joined values come back with one `str.split` (1.6M ids sliced
    one by one in Python were ~0.65 s of each explore open)."""
    if isinstance(packed, tuple) and len(packed) == 3 and packed[0] == "__split__":
        return packed[1].split("\0")
    if isinstance(packed, tuple) and len(packed) == 3 and packed[0] == "__packed__":
        joined, ends = packed[1], np.cumsum(packed[2]).tolist()
        starts = [0] + ends[:-1]
        return [joined[a:b] for a, b in zip(starts, ends)]
    return packed


FETCH_ROWS = 500_000


class _NoRows:
    def fetchmany(self, _n):
        return []


def _row_arrays(rows) -> tuple[np.ndarray, ...]:
    """(user_idx, item_idx, rating, timestamp) arrays of (user, item, rating, timestamp) row tuples."""
    n = len(rows)
    return (np.fromiter((r[0] for r in rows), dtype=np.int32, count=n),
            np.fromiter((r[1] for r in rows), dtype=np.int32, count=n),
            np.fromiter((np.nan if r[2] is None else r[2] for r in rows), dtype=np.float32, count=n),
            np.fromiter((NO_TIMESTAMP if r[3] is None else r[3] for r in rows), dtype=np.int64, count=n))


def _interaction_arrays(cursor, expected: int) -> tuple[np.ndarray, ...]:
    """(user_idx, item_idx, rating, timestamp) from a cursor, fetched in blocks into arrays sized for
    the `expected` rows: memory is the arrays plus one block of row tuples, never a list of every row
    (25M tuples would be several GB)."""
    dtypes = (np.int32, np.int32, np.float32, np.int64)
    out = [np.empty(max(0, int(expected)), dt) for dt in dtypes]
    filled = 0
    while True:
        rows = cursor.fetchmany(FETCH_ROWS)
        if not rows:
            break
        n = len(rows)
        cols = _row_arrays(rows)
        del rows
        if filled + n > len(out[0]):            # more rows than the counts said: grow
            out = [np.concatenate([o[:filled], np.empty(max(n, filled), o.dtype)]) for o in out]
        for o, c in zip(out, cols):
            o[filled:filled + n] = c
        filled += n
    return tuple(o[:filled] for o in out)


def _select(store: Store, conn, sql: str, params: tuple):
    """A cursor-like result of `sql` (qmark parameters) on `conn`: the raw sqlite3 cursor for SQLite (no
    per-row SQLAlchemy objects), a SQLAlchemy result elsewhere."""
    if store.is_sqlite:
        return conn.connection.driver_connection.cursor().execute(sql, params)
    from sqlalchemy import text
    names = {f"p{i}": v for i, v in enumerate(params)}
    parts = sql.split("?")
    return conn.execute(text("".join(p + (f":p{i}" if i < len(parts) - 1 else "") for i, p in enumerate(parts))),
                        names)


def interaction_blocks(store: Store, dataset_id: int, rows: int = FETCH_ROWS):
    """The dataset's interactions as (user_idx, item_idx, rating, timestamp) arrays, about `rows` at a
    time, each block holding whole users (ascending): for aggregates in bounded memory, never the whole
    table at once. Read in key order (user, item), which the table's primary key gives without a sort."""
    with store.engine.connect() as conn:
        cur = _select(store, conn, "SELECT user_idx, item_idx, rating, timestamp FROM interactions "
                      "WHERE dataset_id=? ORDER BY user_idx, item_idx", (int(dataset_id),))
        carry: tuple[np.ndarray, ...] | None = None
        while fetched := cur.fetchmany(rows):
            block = _row_arrays(fetched)
            del fetched
            if carry is not None:
                block = tuple(np.concatenate([c, b]) for c, b in zip(carry, block))
            cut = int(np.searchsorted(block[0], block[0][-1], side="left"))   # the last user may go on
            carry = tuple(b[cut:] for b in block)
            if cut:
                yield tuple(b[:cut] for b in block)
        if carry is not None and len(carry[0]):
            yield carry


def user_interactions(store: Store, dataset_id: int, users) -> list[tuple[np.ndarray, ...]]:
    """Each user's interactions as (item_idx, rating, timestamp) arrays (in item order): what the explorer
    reads per pick instead of holding the whole table. A primary-key range read per user."""
    out = []
    with store.engine.connect() as conn:
        for u in users:
            cur = _select(store, conn, "SELECT user_idx, item_idx, rating, timestamp FROM interactions "
                          "WHERE dataset_id=? AND user_idx=? ORDER BY item_idx", (int(dataset_id), int(u)))
            out.append(_row_arrays(cur.fetchall())[1:])
    return out


def write_dataset(store: Store, name: str, *, user_ids: Sequence[str], item_ids: Sequence[str],
                  titles: Sequence[str | None], genres: Sequence[Iterable[str]], descriptions: Sequence[str | None],
                  user_idx: np.ndarray, item_idx: np.ndarray, rating: np.ndarray | None,
                  timestamp: np.ndarray | None, rating_min: float | None, rating_max: float | None,
                  positive_threshold: float | None, source: dict, import_report: dict | None = None) -> int:
    """Write a whole in-memory dataset in one transaction (used by the demo generator and tests).
    (user, item) pairs must be unique. Returns the dataset id."""
    n = len(user_idx)
    with store.write_session() as s:   # waits while another program writes
        if repo.dataset_exists(s, name):
            raise EngineError(f"a dataset named {name!r} already exists")
        ds_id = repo.create_dataset(s, name, source=source, rating_min=rating_min, rating_max=rating_max,
                                    positive_threshold=positive_threshold)
        bulk = bulk_writer(s)
        bulk.insert("users", ("dataset_id", "idx", "external_id"),
                    ((ds_id, i, str(u)) for i, u in enumerate(user_ids)))
        bulk.insert("items", ("dataset_id", "idx", "external_id", "title", "genres", "description"),
                    ((ds_id, i, str(it), titles[i], "|".join(genres[i]) or None, descriptions[i])
                     for i, it in enumerate(item_ids)))
        r = [None] * n if rating is None else [None if np.isnan(x) else float(x) for x in rating]
        t = [None] * n if timestamp is None else [None if x == NO_TIMESTAMP else int(x) for x in timestamp]
        bulk.insert("interactions", ("dataset_id", "user_idx", "item_idx", "rating", "timestamp"),
                    zip([ds_id] * n, user_idx.tolist(), item_idx.tolist(), r, t))
        bulk.close()
        repo.update_dataset_counts(s, ds_id, n_users=len(user_ids), n_items=len(item_ids), n_interactions=n,
                                   import_report=import_report or {})
    return ds_id


def index_of(ids: np.ndarray, external: str, what: str, dataset_name: str) -> int:
    """The internal index of the user or item whose external id is `external` (a one-line error naming
    the dataset when there is none): how the CLI turns `--user` / `--item` into a row."""
    hit = np.flatnonzero(ids == str(external))
    if len(hit) == 0:
        raise NotFoundError(f"no {what} {shorten(str(external))} in dataset {dataset_name!r}")
    return int(hit[0])
