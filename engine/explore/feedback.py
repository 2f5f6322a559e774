"""A user's feedback on items (like, dislike, not interested) as stored: recorded, listed, undone. Thin
wrappers the CLI, the app and the live list (engine.explore.live_list) share."""
from __future__ import annotations

from dataclasses import dataclass

from engine.errors import EngineError, NotFoundError
from engine.store import repository as repo

KINDS = ("like", "dislike", "not_interested")


@dataclass(frozen=True)
class FeedbackEntry:
    id: int
    item: int
    kind: str
    created_at: str = ""    # ISO time (UTC) the feedback was given; "" for in-memory entries


def record_feedback(store, dataset_id: int, user: int, item: int, kind: str) -> int:
    if kind not in KINDS:
        raise EngineError(f"unknown feedback {kind!r}; use one of {', '.join(KINDS)}")
    with store.write_session() as s:   # waits while another program writes
        return repo.add_feedback(s, dataset_id, int(user), int(item), kind)


def list_feedback(store, dataset_id: int, user: int) -> list[FeedbackEntry]:
    with store.session() as s:
        return [FeedbackEntry(*row) for row in repo.active_feedback(s, dataset_id, int(user))]


def undo_feedback(store, feedback_id: int) -> None:
    with store.write_session() as s:
        repo.undo_feedback(s, int(feedback_id))


def give_feedback(store, dataset_id: int, user: int, item: int, kind: str) -> list[FeedbackEntry]:
    """Record one feedback and return the user's active feedback (what a live list applies)."""
    record_feedback(store, dataset_id, user, item, kind)
    return list_feedback(store, dataset_id, user)


def undo_and_list(store, dataset_id: int, user: int, feedback_id: int | None = None) -> list[FeedbackEntry]:
    """Undo one of the user's active feedback entries (default: the latest); return what stays active."""
    entries = list_feedback(store, dataset_id, user)
    if not entries:
        raise NotFoundError("there is no feedback to undo")
    fid = entries[-1].id if feedback_id is None else int(feedback_id)
    if not any(e.id == fid for e in entries):
        raise NotFoundError(f"no active feedback {fid} for this user")
    undo_feedback(store, fid)
    return [e for e in entries if e.id != fid]
