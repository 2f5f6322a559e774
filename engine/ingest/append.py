"""`llmrec import --append DATASET`: add new interactions, users and items to an existing dataset,
keeping every existing internal index (so trained runs stay valid for the old users and items).

The new files go through the ordinary importer (same sniffing, mapping, validation and errors) into a
staging dataset; one transaction then merges it into the target by external id and deletes the
staging dataset:
* users and items not yet in the target get the next indices, in the order the file introduces them;
* existing items keep their text;
* a (user, item) pair already present keeps the later event (by timestamp; an untimed event replaces).
A failure in the merge rolls it back and the staging dataset is removed: the target is unchanged.
The staging dataset is hidden from every listing until it is merged; if this process is killed, the
next tidy-up (opening the database in the app, `llmrec doctor`) removes it.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Sequence

from sqlalchemy import text

from engine.errors import EngineError
from engine.ingest.importer import import_files
from engine.store import repository as repo


@dataclass(frozen=True)
class AppendSummary:
    dataset_id: int
    name: str
    new_users: int
    new_items: int
    new_interactions: int
    updated_interactions: int
    n_users: int
    n_items: int
    n_interactions: int
    rows_read: int
    skipped: dict
    seconds: float

    def to_dict(self) -> dict:
        return dict(self.__dict__)


MERGE_USERS = """
INSERT INTO users (dataset_id, idx, external_id)
SELECT :t, :base + ROW_NUMBER() OVER (ORDER BY s.idx) - 1, s.external_id
FROM users s LEFT JOIN users x ON x.dataset_id = :t AND x.external_id = s.external_id
WHERE s.dataset_id = :s AND x.idx IS NULL
"""
MERGE_ITEMS = """
INSERT INTO items (dataset_id, idx, external_id, title, genres, description)
SELECT :t, :base + ROW_NUMBER() OVER (ORDER BY s.idx) - 1, s.external_id, s.title, s.genres, s.description
FROM items s LEFT JOIN items x ON x.dataset_id = :t AND x.external_id = s.external_id
WHERE s.dataset_id = :s AND x.idx IS NULL
"""
MERGE_INTERACTIONS = """
INSERT INTO interactions (dataset_id, user_idx, item_idx, rating, timestamp)
SELECT :t, tu.idx, ti.idx, i.rating, i.timestamp
FROM interactions i
JOIN users su ON su.dataset_id = :s AND su.idx = i.user_idx
JOIN users tu ON tu.dataset_id = :t AND tu.external_id = su.external_id
JOIN items si ON si.dataset_id = :s AND si.idx = i.item_idx
JOIN items ti ON ti.dataset_id = :t AND ti.external_id = si.external_id
WHERE i.dataset_id = :s
ON CONFLICT (dataset_id, user_idx, item_idx) DO UPDATE SET rating = excluded.rating, timestamp = excluded.timestamp
WHERE excluded.timestamp IS NULL OR interactions.timestamp IS NULL OR excluded.timestamp >= interactions.timestamp
"""


def append_files(store, paths: Sequence, dataset: str | int, *, progress=None, cancel=None, **import_options) -> AppendSummary:
    """Import `paths` and merge them into `dataset` (see the module docstring). Returns what changed."""
    start = time.perf_counter()
    with store.session() as s:
        target = repo.get_dataset(s, dataset)
    staging_name = f".append-{uuid.uuid4().hex[:12]}"
    staged = import_files(store, paths, name=staging_name, progress=progress, cancel=cancel, staging=True,
                          **import_options)
    try:
        if (staged.rating_min is None) != (target.rating_min is None):
            kind = "implicit" if staged.rating_min is None else "rated"
            raise EngineError(f"cannot append {kind} interactions to dataset {target.name!r} "
                              f"({'implicit' if target.rating_min is None else 'rated'})")
        with store.write_session(cancel=cancel) as s:
            conn = s.connection()
            q = lambda sql, **kw: conn.execute(text(sql), {"t": target.id, "s": staged.dataset_id, **kw})  # noqa: E731
            count = lambda table, ds: conn.execute(text(f"SELECT COUNT(*) FROM {table} WHERE dataset_id = :d"),  # noqa: E731
                                                   {"d": ds}).scalar_one()
            n_users, n_items, n_inter = count("users", target.id), count("items", target.id), count("interactions", target.id)
            new_users = q(MERGE_USERS, base=n_users).rowcount
            new_items = q(MERGE_ITEMS, base=n_items).rowcount
            changed = q(MERGE_INTERACTIONS).rowcount
            after = count("interactions", target.id)
            conn.execute(text("DELETE FROM datasets WHERE id = :s"), {"s": staged.dataset_id})
            repo.update_dataset_counts(s, target.id, n_users=n_users + new_users, n_items=n_items + new_items,
                                       n_interactions=after)
    except BaseException:
        with store.write_session() as s:
            repo.delete_dataset(s, staged.dataset_id)
        raise
    return AppendSummary(target.id, target.name, new_users, new_items, after - n_inter, changed - (after - n_inter),
                         n_users + new_users, n_items + new_items, after, staged.rows_read, dict(staged.skipped),
                         time.perf_counter() - start)
