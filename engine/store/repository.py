"""Repository functions: take a Session (the caller owns it), return plain DTOs."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.errors import EngineError, NotFoundError, shorten
from engine.store.schema import DatabaseIdentityRow, DatasetRow, FeedbackRow, ItemRow, RunEpochRow, RunRow
from engine.types import DatasetInfo, ItemInfo, RunInfo


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _dataset_info(row: DatasetRow) -> DatasetInfo:
    return DatasetInfo(id=row.id, name=row.name, n_users=row.n_users, n_items=row.n_items,
                       n_interactions=row.n_interactions, rating_min=row.rating_min,
                       rating_max=row.rating_max, positive_threshold=row.positive_threshold,
                       source=dict(row.source or {}), import_report=dict(row.import_report or {}),
                       created_at=row.created_at, genres_label=row.genres_label or "Genres")


IMPORTING = "importing"   # source key of a dataset an import is still writing: not listed, not found


def _finished(row: DatasetRow) -> bool:
    return IMPORTING not in (row.source or {})


def list_datasets(session: Session) -> list[DatasetInfo]:
    return [_dataset_info(r) for r in session.scalars(select(DatasetRow).order_by(DatasetRow.id)) if _finished(r)]


def get_dataset(session: Session, name_or_id: str | int) -> DatasetInfo:
    """Look a dataset up by name, or by id when given an int (or a string of digits no dataset is named)."""
    row = None
    if isinstance(name_or_id, str):
        row = session.scalar(select(DatasetRow).where(DatasetRow.name == name_or_id))
        if row is None and name_or_id.isascii() and name_or_id.isdigit() and _is_row_id(int(name_or_id)):
            row = session.get(DatasetRow, int(name_or_id))
    elif _is_row_id(int(name_or_id)):
        row = session.get(DatasetRow, int(name_or_id))
    if row is None or not _finished(row):
        raise NotFoundError(f"no dataset {shorten(name_or_id)} in this database")
    return _dataset_info(row)


def dataset_exists(session: Session, name: str) -> bool:
    return session.scalar(select(DatasetRow.id).where(DatasetRow.name == name)) is not None


def create_dataset(session: Session, name: str, *, source: dict, rating_min: float | None,
                   rating_max: float | None, positive_threshold: float | None) -> int:
    row = DatasetRow(name=name, source=source, rating_min=rating_min, rating_max=rating_max,
                     positive_threshold=positive_threshold, n_users=0, n_items=0, n_interactions=0,
                     import_report={}, created_at=utcnow())
    session.add(row)
    try:
        session.flush()
    except IntegrityError:   # another writer committed the same name since the caller's check
        raise EngineError(f"a dataset named {name!r} already exists; choose another name") from None
    return row.id


def update_dataset_counts(session: Session, dataset_id: int, *, n_users: int, n_items: int,
                          n_interactions: int, import_report: dict | None = None) -> None:
    row = session.get(DatasetRow, dataset_id)
    row.n_users, row.n_items, row.n_interactions = n_users, n_items, n_interactions
    if import_report is not None:
        row.import_report = import_report


def set_positive_threshold(session: Session, dataset_id: int, threshold: float | None) -> None:
    session.get(DatasetRow, dataset_id).positive_threshold = threshold


def delete_dataset(session: Session, dataset_id: int) -> None:
    session.execute(delete(DatasetRow).where(DatasetRow.id == dataset_id))


def get_items(session: Session, dataset_id: int, idxs: list[int]) -> list[ItemInfo]:
    rows = {r.idx: r for r in session.scalars(
        select(ItemRow).where(ItemRow.dataset_id == dataset_id, ItemRow.idx.in_(list(map(int, idxs)))))}
    return [ItemInfo(idx=r.idx, external_id=r.external_id, title=r.title or r.external_id,
                     genres=tuple(g for g in (r.genres or "").split("|") if g),
                     description=r.description or "") for r in (rows[i] for i in idxs if i in rows)]


def database_id(session: Session) -> str:
    """This database's identity (migration 0006): what its model folders record as their owner."""
    return session.scalars(select(DatabaseIdentityRow.id)).one()


# ---- runs -------------------------------------------------------------------------------

def _run_info(row: RunRow, dataset_name: str) -> RunInfo:
    return RunInfo(id=row.id, dataset_id=row.dataset_id, dataset_name=dataset_name, model=row.model,
                   objective=row.objective, holdout=row.holdout, device=row.device,
                   device_name=row.device_name, seconds=row.seconds, metrics=dict(row.metrics or {}),
                   config=dict(row.config or {}), artifact_dir=row.artifact_dir, created_at=row.created_at)


def register_run(session: Session, *, dataset_id: int, model: str, objective: str | None, config: dict,
                 holdout: bool, device: str | None, device_name: str | None, seconds: float | None,
                 metrics: dict, artifact_dir: str | None, epochs: list[dict] | None = None) -> int:
    """Register a complete run (its files must already be in place) with its per-epoch stats."""
    row = RunRow(dataset_id=dataset_id, model=model, objective=objective, config=config, holdout=holdout,
                 device=device, device_name=device_name, seconds=seconds, metrics=metrics,
                 artifact_dir=artifact_dir, created_at=utcnow())
    session.add(row)
    session.flush()
    for e in epochs or []:
        session.add(RunEpochRow(run_id=row.id, **e))
    return row.id


def set_run_metrics(session: Session, run_id: int, metrics: dict) -> None:
    session.get(RunRow, run_id).metrics = metrics


def list_runs(session: Session, dataset_id: int | None = None) -> list[RunInfo]:
    q = select(RunRow, DatasetRow.name).join(DatasetRow, DatasetRow.id == RunRow.dataset_id).order_by(RunRow.id)
    if dataset_id is not None:
        q = q.where(RunRow.dataset_id == dataset_id)
    return [_run_info(r, n) for r, n in session.execute(q)]


def _is_row_id(n: int) -> bool:
    """Whether a database row can have id `n` (the drivers overflow on a larger one, e.g. --run 1e23)."""
    return 0 <= n <= 2**63 - 1


def get_run(session: Session, run_id: int) -> RunInfo:
    if not _is_row_id(int(run_id)):
        raise NotFoundError(f"no run {run_id} in this database")
    got = session.execute(select(RunRow, DatasetRow.name).join(DatasetRow, DatasetRow.id == RunRow.dataset_id)
                          .where(RunRow.id == int(run_id))).first()
    if got is None:
        raise NotFoundError(f"no run {run_id} in this database")
    return _run_info(*got)


def run_epochs(session: Session, run_id: int) -> list[dict]:
    rows = session.scalars(select(RunEpochRow).where(RunEpochRow.run_id == run_id).order_by(RunEpochRow.epoch))
    return [dict(epoch=r.epoch, loss=r.loss, val_recall10=r.val_recall10, val_ndcg10=r.val_ndcg10,
                 examples_per_s=r.examples_per_s, seconds=r.seconds) for r in rows]


def delete_run(session: Session, run_id: int) -> None:
    session.execute(delete(RunRow).where(RunRow.id == run_id))


# ---- feedback ---------------------------------------------------------------------------

FEEDBACK_KINDS = ("like", "dislike", "not_interested", "avoid", "weight")


def add_feedback(session: Session, dataset_id: int, user_idx: int, item_idx: int, kind: str, *,
                 category: str | None = None, weight: float | None = None, sentence_id: int | None = None,
                 sentence: str | None = None) -> int:
    """One entry; `category` (with item -1) for a hide or soft weight on a category; entries of one
    sentence share `sentence_id` (pass -1 for the sentence's first entry: it takes its own id)."""
    if kind not in FEEDBACK_KINDS:
        raise ValueError(f"unknown feedback kind {kind!r}")
    row = FeedbackRow(dataset_id=dataset_id, user_idx=int(user_idx), item_idx=int(item_idx), kind=kind,
                      active=True, created_at=utcnow(), category=category,
                      weight=None if weight is None else float(weight),
                      sentence_id=None if sentence_id in (None, -1) else int(sentence_id), sentence=sentence)
    session.add(row)
    session.flush()
    if sentence_id == -1:
        row.sentence_id = row.id
        session.flush()
    return row.id


def active_feedback(session: Session, dataset_id: int, user_idx: int) -> list[tuple]:
    """(feedback id, item idx, kind, ISO time, category, weight, sentence id, sentence) of the user's
    feedback still in force, oldest first."""
    rows = session.scalars(select(FeedbackRow).where(
        FeedbackRow.dataset_id == dataset_id, FeedbackRow.user_idx == int(user_idx),
        FeedbackRow.active.is_(True)).order_by(FeedbackRow.id))
    return [(r.id, r.item_idx, r.kind, r.created_at.isoformat(timespec="seconds") if r.created_at else "",
             r.category or "", 0.0 if r.weight is None else float(r.weight), r.sentence_id, r.sentence or "")
            for r in rows]


def sentence_entries(session: Session, feedback_id: int) -> list[int]:
    """Ids of the active entries undone together with `feedback_id`: its sentence's, else itself."""
    row = session.get(FeedbackRow, int(feedback_id))
    if row is None:
        raise NotFoundError(f"no feedback {feedback_id}")
    if row.sentence_id is None:
        return [row.id] if row.active else []
    return list(session.scalars(select(FeedbackRow.id).where(
        FeedbackRow.sentence_id == row.sentence_id, FeedbackRow.active.is_(True)).order_by(FeedbackRow.id)))


def delete_feedback(session: Session, feedback_ids) -> None:
    """Remove feedback rows outright: taking back what a failed command had recorded."""
    for fid in feedback_ids:
        row = session.get(FeedbackRow, int(fid))
        if row is not None:
            session.delete(row)


def undo_feedback(session: Session, feedback_id: int) -> None:
    row = session.get(FeedbackRow, int(feedback_id))
    if row is None:
        raise NotFoundError(f"no feedback {feedback_id}")
    row.active = False
